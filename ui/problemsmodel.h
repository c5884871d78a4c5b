#pragma once
// The problems list: unmapped, incompatible and guessed target leaves, ambiguous matches, stale profile
// entries and file errors. Each row knows the target key to jump to (if any).

#include <QAbstractListModel>

namespace graft::ui {

class MappingDocument;

class ProblemsModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role { TargetKeyRole = Qt::UserRole + 1 };

    explicit ProblemsModel(MappingDocument *document, QObject *parent = nullptr);

    /// A problem that is not about the mapping (a file that could not be opened).
    void addFileError(const QString &message);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

private:
    struct Problem {
        QString text;
        QString target;
        int severity = 0; // 2 error, 1 warning, 0 a guess to review
    };
    void rebuild();

    MappingDocument *m_document;
    std::vector<Problem> m_problems;
    QStringList m_fileErrors;
};

} // namespace graft::ui
