#pragma once
// The source tensors nothing uses, apart from the problems: plain unused sources first, then the
// buffers the matcher recognised (causal masks, BatchNorm step counters, rotary caches), which
// a target is not expected to take. Each row knows the source key to jump to.

#include <QAbstractTableModel>
#include <QString>

#include <vector>

namespace graft::ui {

class MappingDocument;

class UnusedSourcesModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { KeyColumn, KindColumn, ReasonColumn, ColumnCount };
    enum Role { SourceKeyRole = Qt::UserRole + 1, IsBufferRole };

    explicit UnusedSourcesModel(MappingDocument *document, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    int bufferCount() const { return m_buffers; }

private:
    struct Row {
        QString key;
        QString reason;
        bool buffer = false;
    };
    void rebuild();

    MappingDocument *m_document;
    std::vector<Row> m_rows;
    int m_buffers = 0;
};

} // namespace graft::ui
