#pragma once
// Mapping profiles (*.graft.json): a human-readable, diff-friendly record of how a source maps
// onto a target — rename rules, explicit pairs with transforms, targets kept at their initial
// values, sources ignored, notes — that can be re-applied to other files (a bigger model of
// the same family, a new checkpoint) from the GUI or graft-cli.
//
//   {"format": "graft-profile", "version": 1,
//    "source": {"file", "format", "keys", "fingerprint"}, "target": {...},
//    "rules": [{"pattern", "replacement"}],
//    "mappings": [{"target", "source" | "sources": [...], "transforms": [{"op": ...}]}],
//    "kept": [TARGET...], "ignored": [SOURCE...], "notes": "..."}

#include "mapping/automatcher.h"
#include "checkpoint/checkpoint.h"

#include <QString>

namespace graft {

/// Who a profile was made for: enough to tell whether it is being applied to other files.
struct ProfileSide {
    QString file;        ///< file name only
    QString format;
    int keys = 0;
    QString fingerprint; ///< "sha256:<hex>" of the sorted (key, shape) list
};

struct Profile {
    ProfileSide source;
    ProfileSide target;
    std::vector<RenameRule> rules;
    std::vector<ExplicitMapping> mappings;
    QStringList kept;
    QStringList ignored;
    QString notes;

    /// The options that re-apply this profile (explicit pairs, rules, kept, ignored).
    MatchOptions toMatchOptions() const;
};

/// Fingerprint of a checkpoint: sha256 over its sorted "key shape" lines.
QString checkpointFingerprint(const Checkpoint &checkpoint);
ProfileSide describeSide(const Checkpoint &checkpoint);

/// The learned prefix rewrites of `result` that are plain prefix removals on the raw source keys
/// (`transformer.` in `transformer.h.0.ln_1.weight`), as rename rules `^transformer\.(.*)=>\1`:
/// checked against the sources the mapping uses. Rewrites that rename tokens stay reported only.
std::vector<RenameRule> learnedRenameRules(const MappingResult &result);

/// A profile recording `result` exactly: every mapped pair explicit with its transforms,
/// kept targets, the rules used plus the learned prefix removals (learnedRenameRules), and `notes`.
Profile profileFromResult(const MappingResult &result, const Checkpoint &source, const Checkpoint &target,
                          const std::vector<RenameRule> &rules, const QString &notes = QString());

/// Loads and validates a profile. Errors name the file and the entry at fault (bad JSON,
/// wrong format or version, invalid regex, unknown transform).
Result<Profile> loadProfile(const QString &path);
/// Writes the profile atomically (temp file + rename), pretty-printed.
Status saveProfile(const Profile &profile, const QString &path);

/// Warnings about applying `profile` to these files (fingerprint or key count differ).
QStringList profileMismatchWarnings(const Profile &profile, const Checkpoint &source, const Checkpoint &target);

} // namespace graft
