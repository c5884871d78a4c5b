#pragma once
// One side of the workbench as a tree: keys grouped by path component (`features` › `0` ›
// `weight`; `.features[0].weight` the same way), columns name / shape / dtype / size / status,
// per-subtree counts (mapped / total) and status colours. Source keys can be dragged; target
// leaves and subtrees accept drops. Drops never edit the mapping directly: they ask the
// document for a proposal and push one undo command.

#include "dragfitcache.h"
#include "filterablekeytree.h"
#include "mapping/mapping.h"

#include <QAbstractItemModel>

#include <memory>
#include <vector>

namespace graft::ui {

class MappingDocument;

class CheckpointTreeModel : public QAbstractItemModel, public FilterableKeyTree {
    Q_OBJECT
public:
    enum class Side { Source, Target };
    enum Column { NameColumn, ShapeColumn, DTypeColumn, SizeColumn, StatusColumn, ColumnCount };
    enum Role { KeyRole = Qt::UserRole + 1, IsLeafRole, StatusRole, SubtreeKeysRole };

    static const char *const kMimeType;

    CheckpointTreeModel(MappingDocument *document, Side side, QObject *parent = nullptr);
    ~CheckpointTreeModel() override;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

    QStringList mimeTypes() const override;
    QMimeData *mimeData(const QModelIndexList &indexes) const override;
    Qt::DropActions supportedDropActions() const override;
    Qt::DropActions supportedDragActions() const override;
    bool canDropMimeData(const QMimeData *data, Qt::DropAction action, int row, int column, const QModelIndex &parent) const override;
    bool dropMimeData(const QMimeData *data, Qt::DropAction action, int row, int column, const QModelIndex &parent) override;

    /// The index of a full key (leaf), or invalid.
    QModelIndex indexOfKey(const QString &key) const;
    /// Every leaf key at or below `index`, in file order.
    QStringList keysUnder(const QModelIndex &index) const;
    /// How a drop of `data` on `index` would fit: Exact, Fixable or Incompatible (Unmapped when
    /// it is no drop at all), with the fix or reason in `detail`.
    /// Computed once per row for the whole drag (DragFitCache).
    MatchStatus dropFit(const QMimeData *data, const QModelIndex &index, QString *detail = nullptr) const;
    /// The keyboard modifiers of the drag event being handled (the view sets them: Shift
    /// forces an incompatible drop).
    void setDropModifiers(Qt::KeyboardModifiers modifiers) { m_dropModifiers = modifiers; }
    /// The drag left or dropped: forgets its cached fits.
    void endDrag();
    /// Drag fits computed so far (each is computed once per target row and drag).
    int dragFitsComputed() const { return m_dragFits.computed(); }

    const std::vector<FilterRow> &filterRows() const override { return m_filterRows; }
    int filterRowOf(const QModelIndex &index) const override;

    /// Keys carried by a drag of this model's MIME type.
    static QStringList keysFromMime(const QMimeData *data);

Q_SIGNALS:
    /// A drop of incompatible tensors the user forced with Shift: the window confirms it.
    /// Emitted after dropMimeData() returned (queued), never inside the drop.
    void incompatibleDropRequested(const QString &target, const QStringList &sources, const QString &reason);
    /// Every row's status and counts were recomputed, at every depth (the dataChanged signal
    /// names only the top-level rows: views repaint the whole tree on this).
    void statusesRefreshed();

private:
    struct Node;
    void rebuild();
    void refreshStatus(const QList<int> &changedTargets);
    void refreshAllStatus();
    void recount(Node *node);
    void numberInPreorder(Node *node, int parent);
    Node *nodeOf(const QModelIndex &index) const;
    QModelIndex indexOfNode(const Node *node, int column = 0) const;
    MatchStatus leafStatus(const Node *node) const;
    QString statusText(const Node *node) const;
    const DragFitCache::Fit *fitOf(const QMimeData *data, const QModelIndex &index) const;

    MappingDocument *m_document;
    Side m_side;
    std::unique_ptr<Node> m_root;
    std::vector<Node *> m_leafOfTensor; // tensor index -> leaf node
    std::vector<FilterRow> m_filterRows; // every node but the root, in preorder
    mutable DragFitCache m_dragFits;
    Qt::KeyboardModifiers m_dropModifiers = Qt::NoModifier;
};

} // namespace graft::ui
