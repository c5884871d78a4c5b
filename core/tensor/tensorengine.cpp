#include "tensor/tensorengine.h"

#include <QCoreApplication>
#include <QDir>
#include <QLibrary>
#include <QMutex>
#include <QStringList>

namespace graft {
namespace {

QMutex g_mutex;
std::unique_ptr<TensorEngine> g_engine;

QStringList candidateDirectories()
{
    QStringList directories;
    const QString fromEnvironment = qEnvironmentVariable("GRAFT_PLUGIN_DIR");
    if (!fromEnvironment.isEmpty())
        directories << fromEnvironment;
    if (QCoreApplication::instance() != nullptr) {
        const QString applicationDir = QCoreApplication::applicationDirPath();
        // An installed or unpacked tree (`dpkg-deb -x`, a relocated `cmake --install`): bin/../
        // the module directory this build installs to, then Debian's two usual ones.
        const QDir prefix(QDir(applicationDir).filePath(QStringLiteral("..")));
        directories << applicationDir;
        const QStringList relatives{QStringLiteral(GRAFT_PLUGIN_RELATIVE_DIR), QStringLiteral("lib/graft"),
                                    QStringLiteral("lib/x86_64-linux-gnu/graft")};
        for (const QString &relative : relatives)
            directories << QDir::cleanPath(prefix.filePath(relative));
    }
    directories << QStringLiteral(GRAFT_PLUGIN_BUILD_DIR) << QStringLiteral(GRAFT_PLUGIN_INSTALL_DIR);
    directories.removeDuplicates();
    return directories;
}

} // namespace

Result<TensorEngine *> tensorEngine()
{
    QMutexLocker lock(&g_mutex);
    if (g_engine)
        return g_engine.get();
    QStringList failures;
    for (const QString &directory : candidateDirectories()) {
        const QString path = QDir(directory).filePath(QStringLiteral("libgraft_torch.so"));
        if (!QFile::exists(path))
            continue;
        // The module is never unloaded (the engine's code must outlive it): QLibrary's destructor
        // leaves a loaded library in memory, only unload() would close it. (A heap QLibrary kept
        // in a global that nothing read was optimised away and reported by LeakSanitizer.)
        QLibrary library(path);
        library.setLoadHints(QLibrary::ResolveAllSymbolsHint);
        auto create = reinterpret_cast<GraftCreateTensorEngine>(library.resolve("graftCreateTensorEngine"));
        if (create == nullptr) {
            failures << QStringLiteral("%1: %2").arg(path, library.errorString());
            continue;
        }
        g_engine.reset(create());
        return g_engine.get();
    }
    if (failures.isEmpty())
        failures << QStringLiteral("libgraft_torch.so not found in %1").arg(candidateDirectories().join(QStringLiteral(", ")));
    return Error{QString(), QStringLiteral("cannot load the tensor engine (LibTorch module): ") + failures.join(QStringLiteral("; "))};
}

bool tensorEngineLoaded()
{
    QMutexLocker lock(&g_mutex);
    return g_engine != nullptr;
}

} // namespace graft
