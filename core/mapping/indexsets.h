#pragma once
// The numbers each indexed container of one checkpoint's keys holds, and the check that a name
// match or a learned rewrite does not carry a number from one container to another container
// numbered differently (a refactored model that dropped its parameter-free layers renumbers
// what is left: torchvision AlexNet's features.{0,3,6,8,10} become features.{0,2,4,6,8}, and
// `features.6` is then another layer on each side, with the same shape).

#include <QHash>
#include <QSet>
#include <QString>

#include <optional>
#include <utility>
#include <vector>

namespace graft {

class IndexSets {
public:
    /// From canonical keys (canonicalKey): in `features.3.weight` the container `features` holds
    /// 3; in `layers.1.mlp.2.weight`, `layers` holds 1 and `layers.#.mlp` holds 2.
    explicit IndexSets(const std::vector<QString> &canonicalKeys);

    /// Key k's indexes, in key order: (container, number).
    const std::vector<std::pair<int, qint64>> &indexesOf(size_t key) const { return m_keyIndexes[key]; }
    const QSet<qint64> &numbers(int container) const { return m_numbers[static_cast<size_t>(container)]; }
    const QString &containerName(int container) const { return m_names[static_cast<size_t>(container)]; }

private:
    std::vector<std::vector<std::pair<int, qint64>>> m_keyIndexes;
    std::vector<QSet<qint64>> m_numbers; ///< by container
    std::vector<QString> m_names;        ///< container templates (`layers.#.mlp`)
};

/// Whether a source key may give its tensor to a target key as far as their numbers go.
class IndexRenumbering {
public:
    IndexRenumbering(const IndexSets &source, const IndexSets &target) : m_source(source), m_target(target) {}

    /// Why source key `source` must not feed target key `target`: they carry a number unchanged
    /// (the k-th index of each, when both have as many) between containers whose numbers
    /// neither include the other's. An extra or missing block (one set inside the other) is no
    /// renumbering. nullopt: no such carry.
    std::optional<QString> carry(size_t source, size_t target) const;

private:
    bool renumbered(int sourceContainer, int targetContainer) const;

    const IndexSets &m_source;
    const IndexSets &m_target;
    mutable QHash<quint64, bool> m_renumbered; ///< by (source container, target container)
};

} // namespace graft
