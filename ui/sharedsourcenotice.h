#pragma once
// Says when an edit makes one source feed several targets (a source already mapped dropped on a
// second target). Both mappings stay as the user made them — sharing is sometimes meant (tied
// embeddings) — but the user hears about it, naming every target, instead of finding two green
// rows later. The problems list keeps a row for it as long as it lasts.

#include <QObject>

namespace graft::ui {

class MappingDocument;

class SharedSourceNotice : public QObject {
    Q_OBJECT
public:
    /// Watches `document` (not owned; it outlives this).
    explicit SharedSourceNotice(MappingDocument *document, QObject *parent = nullptr);

    /// The notice for the mappings of `targets` (document indexes): empty when none of their
    /// sources feeds another target too.
    QString noticeFor(const QList<int> &targets) const;

Q_SIGNALS:
    /// "features.0.weight now feeds 2 targets: .a, .b …", after an edit that made it so.
    void message(const QString &text);

private:
    MappingDocument *m_document;
};

} // namespace graft::ui
