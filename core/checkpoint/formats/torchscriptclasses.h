#pragma once
// What a TorchScript archive's code/ folder says about its classes, read as text (nothing is
// compiled or run). torch.jit.save writes each class as Python-like source:
//
//   <root>/code/__torch__/torch/nn/modules/conv/___torch_mangle_11.py
//     class Conv2d(Module):
//       __parameters__ = ["weight", "bias", ]
//       __buffers__ = []
//       weight : Tensor
//       kernel_size : Final[Tuple[int, int]] = (3, 3)
//       def forward(self: ..., input: Tensor) -> Tensor: ...
//
// data.pkl holds the objects' attributes only (parameters, buffers, submodules and plain
// attributes alike); these two lists are what tells a parameter from a plain tensor attribute.

#include "base/mappedfile.h"
#include "base/result.h"
#include "checkpoint/formats/ziparchive.h"

#include <QHash>
#include <QSet>
#include <QString>
#include <QStringList>

#include <optional>
#include <utility>
#include <vector>

namespace graft {

/// One class as its source declares it.
struct ScriptClass {
    bool isModule = false; ///< declares __parameters__ (every scripted nn.Module does)
    QSet<QString> parameters; ///< sets: a module may have thousands, each attribute is looked up
    QSet<QString> buffers;
    std::vector<std::pair<QString, QString>> constants; ///< `name : Final[T] = value` (name, value text)
};

/// Looks classes up in one archive's code/ folder, reading each source file once.
class ScriptClasses {
public:
    /// `root`: the archive's folder prefix ("resnet/"); the archive and map must outlive this.
    ScriptClasses(const MappedFilePtr &file, const ZipArchive &archive, QString root);

    /// The class "__torch__.a.b.Name" as <root>/code/__torch__/a/b.py defines it; nullptr when
    /// that file is absent or does not define it. An Error (no file name) for a source member
    /// that cannot be read (corrupt deflate, over the size cap).
    Result<const ScriptClass *> find(const QString &qualifiedName);

private:
    static constexpr qint64 kMaxSourceBytes = qint64(64) << 20;

    Result<const QByteArray *> source(const QString &memberName);

    const MappedFilePtr &m_file;
    const ZipArchive &m_archive;
    QString m_root;
    QHash<QString, std::optional<ScriptClass>> m_classes; // by qualified name; nullopt: not defined
    QHash<QString, QByteArray> m_sources;                  // by member name; empty: absent
};

/// "torch.nn.modules.conv.Conv2d" for "__torch__.torch.nn.modules.conv.___torch_mangle_11.Conv2d":
/// the class name a user knows, without TorchScript's prefix and name mangling.
QString scriptClassDisplayName(const QString &qualifiedName);

} // namespace graft
