#pragma once
// What the torch.save zip reader and the TorchScript reader share: a pickle member's bytes and
// the storages its persistent ids name, ('storage', torch.FloatStorage, '<key>', 'cpu', numel),
// each the record <root><folder><key> (folder "data/"; TorchScript constants: "constants/").

#include "checkpoint/formats/torchobjects.h"
#include "checkpoint/formats/ziparchive.h"

#include <vector>
#include <vector>

namespace graft {

/// The bytes of a pickle member: a view of the map when stored, inflated into `buffer` when
/// deflated (at most 2 GiB). Errors name the file and the member.
Result<std::pair<const uchar *, qint64>> zipMemberBytes(const MappedFilePtr &file, const ZipEntry &entry, std::vector<uchar> &buffer);

/// The pickle member `entry` unpickled with the torch rules (zipMemberBytes, then unpickleTorch);
/// errors name the file and the member ("data.pkl: …").
Result<Unpickled> unpickleZipMember(const MappedFilePtr &file, const ZipEntry &entry);

/// True when <root>byteorder says "big" (rare; torch 2.x writes it).
bool zipIsBigEndian(const MappedFilePtr &file, const ZipArchive &archive, const QString &root);

/// Resolves storage persistent ids to records of one folder, each checked to hold exactly the
/// storage its id declares, and adds one Segment per storage to `checkpoint` (unless
/// `addSegments` is false: records are then only checked). The archive, map and checkpoint
/// must outlive it.
class ZipStorages {
public:
    ZipStorages(const MappedFilePtr &file, const ZipArchive &archive, QString folder, Checkpoint &checkpoint, bool bigEndian,
                bool addSegments = true);

    Result<ResolvedStorage> resolve(const PickledTensor &tensor);
    /// resolve() as a StorageResolver bound to this object.
    StorageResolver resolver()
    {
        return [this](const PickledTensor &tensor) { return resolve(tensor); };
    }

private:
    /// The record of storage `storageKey` (<folder><key>), or nullptr.
    const ZipEntry *record(const PickledStorageId &storage);

    const MappedFilePtr &m_file;
    const ZipArchive &m_archive;
    QString m_folder;
    Checkpoint &m_checkpoint;
    int m_fileIndex = -1;
    bool m_bigEndian;
    bool m_addSegments;
    // What each record (by its place in the archive) resolved to: a tensor per storage (the
    // common case) looks its record up once, and tied tensors share the entry. A record read as
    // another element type resolves again (the first stays). A flat table, not a hash of
    // pointers: 0.8 MB for 100k records instead of 7 MB of nodes.
    struct Known { // a ResolvedStorage, and whether it is one: 8 bytes
        int segment = -1;
        DType dtype = DType::Float32;
        bool untyped = false;
        bool bigEndian = false;
        bool set = false;
    };
    std::vector<Known> m_known;
    std::vector<qint32> m_numbered; ///< records "<folder><n>" by n: their place in the archive, -1 none (built on first use)
    bool m_numberedListed = false;
};

} // namespace graft
