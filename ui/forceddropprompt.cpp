#include "forceddropprompt.h"

#include "mappingcommands.h"
#include "mappingdocument.h"

#include <QMessageBox>

namespace graft::ui {

void askForcedDrop(QWidget *parent, MappingDocument *document, const QString &target, const QStringList &sources, const QString &reason)
{
    const auto answer = QMessageBox::question(
        parent, QObject::tr("Incompatible mapping"),
        QObject::tr("%1 ← %2 does not fit:\n%3\n\nMap it anyway? The file cannot be saved until the transform chain is fixed.")
            .arg(target, sources.join(QStringLiteral(", ")), reason));
    if (answer != QMessageBox::Yes || document->target() == nullptr || document->target()->indexOf(target) < 0)
        return; // declined, or the target was replaced while the question was open
    const Mapping forced = document->proposeMapping(target, sources);
    document->undoStack()->push(new SetMappingsCommand(document, QObject::tr("Force map %1").arg(target), {forced}));
}

} // namespace graft::ui
