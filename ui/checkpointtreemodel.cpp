#include "checkpointtreemodel.h"

#include "constantvalue.h"
#include "keypath.h"
#include "mappingcommands.h"
#include "mappingdocument.h"
#include "statusstyle.h"

#include <QGuiApplication>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QMimeData>
#include <QSet>

namespace graft::ui {

const char *const CheckpointTreeModel::kMimeType = "application/x-graft-source-keys";

struct CheckpointTreeModel::Node {
    QString name;
    Node *parent = nullptr;
    int row = 0;
    int tensor = -1; // leaf: index into the checkpoint's tensors
    std::vector<std::unique_ptr<Node>> children;
    QHash<QString, Node *> childByName; // used while building only
    int leaves = 0;
    int mapped = 0;
    int problems = 0;
    int guessed = 0; // not counted in `mapped`: nothing is written unless accepted
    int preorder = -1; // position in m_filterRows
};

namespace {

constexpr int kNamedUsers = 3; // "Used by" names this many targets of a source, then "+ n more"

bool isMapped(MatchStatus status) { return status == MatchStatus::Exact || status == MatchStatus::Fixable; }

} // namespace

CheckpointTreeModel::CheckpointTreeModel(MappingDocument *document, Side side, QObject *parent)
    : QAbstractItemModel(parent), m_document(document), m_side(side), m_root(std::make_unique<Node>())
{
    connect(document, side == Side::Source ? &MappingDocument::sourceChanged : &MappingDocument::targetChanged, this,
            &CheckpointTreeModel::rebuild);
    connect(document, &MappingDocument::mappingsChanged, this, &CheckpointTreeModel::refreshStatus);
    connect(document, &MappingDocument::resultReset, this, &CheckpointTreeModel::refreshAllStatus);
    // A cached drag fit is only valid for the document it was computed on (and its tree nodes).
    for (auto signal : {&MappingDocument::sourceChanged, &MappingDocument::targetChanged, &MappingDocument::resultReset})
        connect(document, signal, this, [this] { m_dragFits.clear(); });
    connect(document, &MappingDocument::mappingsChanged, this, [this] { m_dragFits.clear(); });
}

CheckpointTreeModel::~CheckpointTreeModel() = default;

void CheckpointTreeModel::rebuild()
{
    beginResetModel();
    m_root = std::make_unique<Node>();
    m_leafOfTensor.clear();
    const Checkpoint *checkpoint = m_side == Side::Source ? m_document->source() : m_document->target();
    if (checkpoint != nullptr) {
        m_leafOfTensor.resize(checkpoint->tensors().size(), nullptr);
        for (size_t i = 0; i < checkpoint->tensors().size(); ++i) {
            Node *node = m_root.get();
            const QStringList parts = keyPathComponents(checkpoint->tensors()[i].key);
            for (int p = 0; p < parts.size(); ++p) {
                const bool last = p == parts.size() - 1;
                Node *child = last ? nullptr : node->childByName.value(parts[p]);
                if (child == nullptr) {
                    auto created = std::make_unique<Node>();
                    created->name = parts[p];
                    created->parent = node;
                    created->row = static_cast<int>(node->children.size());
                    child = created.get();
                    if (!last)
                        node->childByName.insert(parts[p], child);
                    node->children.push_back(std::move(created));
                }
                node = child;
            }
            node->tensor = static_cast<int>(i);
            m_leafOfTensor[i] = node;
        }
    }
    recount(m_root.get());
    m_filterRows.clear();
    m_filterRows.reserve(m_leafOfTensor.size() * 2);
    for (const auto &child : m_root->children)
        numberInPreorder(child.get(), -1);
    endResetModel();
}

void CheckpointTreeModel::numberInPreorder(Node *node, int parent)
{
    node->preorder = static_cast<int>(m_filterRows.size());
    FilterRow row;
    row.leaf = node->tensor >= 0;
    if (row.leaf) {
        const Checkpoint *checkpoint = m_side == Side::Source ? m_document->source() : m_document->target();
        row.text = checkpoint->tensors()[static_cast<size_t>(node->tensor)].key;
    } else {
        row.text = node->name;
    }
    row.parent = parent;
    m_filterRows.push_back(std::move(row));
    for (const auto &child : node->children)
        numberInPreorder(child.get(), node->preorder);
    m_filterRows[static_cast<size_t>(node->preorder)].subtreeEnd = static_cast<int>(m_filterRows.size());
}

int CheckpointTreeModel::filterRowOf(const QModelIndex &index) const
{
    return index.isValid() && index.model() == this ? nodeOf(index)->preorder : -1;
}

MatchStatus CheckpointTreeModel::leafStatus(const Node *node) const
{
    if (m_side == Side::Target) {
        const Checkpoint *target = m_document->target();
        const int m = m_document->mappingIndex(target->tensors()[static_cast<size_t>(node->tensor)].key);
        return m >= 0 ? m_document->result().mappings[static_cast<size_t>(m)].status : MatchStatus::Unmapped;
    }
    const QString key = m_document->source()->tensors()[static_cast<size_t>(node->tensor)].key;
    const QStringList targets = m_document->targetsOfSource(key);
    if (targets.isEmpty())
        return MatchStatus::Unmapped;
    const int m = m_document->mappingIndex(targets.front());
    return m >= 0 ? m_document->result().mappings[static_cast<size_t>(m)].status : MatchStatus::Unmapped;
}

void CheckpointTreeModel::recount(Node *node)
{
    node->leaves = 0;
    node->mapped = 0;
    node->problems = 0;
    node->guessed = 0;
    if (node->tensor >= 0) {
        const MatchStatus status = m_document->target() && m_document->source() ? leafStatus(node) : MatchStatus::Unmapped;
        node->leaves = 1;
        node->mapped = isMapped(status) || status == MatchStatus::Kept ? 1 : 0;
        node->problems = status == MatchStatus::Incompatible ? 1 : 0;
        node->guessed = status == MatchStatus::Guessed ? 1 : 0;
    }
    for (const auto &child : node->children) {
        recount(child.get());
        node->leaves += child->leaves;
        node->mapped += child->mapped;
        node->problems += child->problems;
        node->guessed += child->guessed;
    }
}

void CheckpointTreeModel::refreshStatus(const QList<int> &)
{
    refreshAllStatus(); // counts of ancestors and sources change too; a recount is O(n) and cheap
}

void CheckpointTreeModel::refreshAllStatus()
{
    if (m_root->children.empty())
        return;
    recount(m_root.get());
    // One signal for the top-level rows: views repaint what they show, whatever the depth.
    // (One per parent cost 134k signals and 2.2 s on a 100k-key tree, each re-filtered by the
    // proxy; KeyFilterProxyModel re-sorts deeper rows itself when sorted by a column that
    // can change here.)
    Q_EMIT dataChanged(index(0, 0), index(static_cast<int>(m_root->children.size()) - 1, ColumnCount - 1));
    Q_EMIT statusesRefreshed();
}

CheckpointTreeModel::Node *CheckpointTreeModel::nodeOf(const QModelIndex &index) const
{
    return index.isValid() ? static_cast<Node *>(index.internalPointer()) : m_root.get();
}

QModelIndex CheckpointTreeModel::indexOfNode(const Node *node, int column) const
{
    if (node == nullptr || node == m_root.get())
        return {};
    return createIndex(node->row, column, const_cast<Node *>(node));
}

QModelIndex CheckpointTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    const Node *node = nodeOf(parent);
    if (row < 0 || column < 0 || column >= ColumnCount || row >= static_cast<int>(node->children.size()))
        return {};
    return createIndex(row, column, node->children[static_cast<size_t>(row)].get());
}

QModelIndex CheckpointTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    return indexOfNode(nodeOf(child)->parent);
}

int CheckpointTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return 0;
    return static_cast<int>(nodeOf(parent)->children.size());
}

int CheckpointTreeModel::columnCount(const QModelIndex &) const { return ColumnCount; }

QString CheckpointTreeModel::statusText(const Node *node) const
{
    if (node->tensor < 0) {
        const QString counts = QStringLiteral("%1 / %2").arg(node->mapped).arg(node->leaves);
        return node->guessed > 0 ? tr("%1 · %2 guessed").arg(counts).arg(node->guessed) : counts;
    }
    if (!m_document->source() || !m_document->target())
        return QString();
    if (m_side == Side::Source) {
        const QString key = m_document->source()->tensors()[static_cast<size_t>(node->tensor)].key;
        const QStringList targets = m_document->targetsOfSource(key);
        if (targets.isEmpty()) {
            const QString buffer = m_document->bufferReason(key);
            return buffer.isEmpty() ? tr("unused") : tr("buffer: %1").arg(buffer);
        }
        // Every user, the first few by name (the tooltip lists them all); the count first, so
        // that a narrow column still shows that there are several.
        QString arrow = targets.size() == 1 ? QStringLiteral("→ %1").arg(targets.front())
                                            : tr("→ %1 targets: %2").arg(targets.size()).arg(targets.mid(0, kNamedUsers).join(QStringLiteral(", ")));
        if (targets.size() > kNamedUsers)
            arrow += tr(" + %1 more").arg(targets.size() - kNamedUsers);
        const int m = m_document->mappingIndex(targets.front());
        const bool named = m >= 0 && m_document->result().mappings[static_cast<size_t>(m)].sources.contains(key);
        const bool guessed = m >= 0 && m_document->result().mappings[static_cast<size_t>(m)].status == MatchStatus::Guessed;
        return named ? (guessed ? tr("%1 (guessed)").arg(arrow) : arrow) : tr("%1 (tied)").arg(arrow);
    }
    return statusLabel(leafStatus(node));
}

QVariant CheckpointTreeModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid())
        return {};
    const Node *node = nodeOf(index);
    const Checkpoint *checkpoint = m_side == Side::Source ? m_document->source() : m_document->target();
    const TensorEntry *tensor = node->tensor >= 0 && checkpoint ? &checkpoint->tensors()[static_cast<size_t>(node->tensor)] : nullptr;
    const bool matched = m_document->source() && m_document->target();
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case NameColumn: return node->name;
        case ShapeColumn: return tensor ? shapeToString(tensor->shape) : QVariant();
        case DTypeColumn: return tensor ? dtypeName(tensor->dtype) : QVariant();
        case SizeColumn: return tensor ? QLocale().formattedDataSize(tensor->nbytes()) : QVariant();
        case StatusColumn: return statusText(node);
        }
        return {};
    case Qt::DecorationRole:
        if (index.column() == NameColumn && tensor && matched)
            return statusIcon(leafStatus(node));
        return {};
    case Qt::BackgroundRole:
        if (tensor && matched)
            return statusBackground(leafStatus(node));
        if (!tensor && node->problems > 0 && index.column() == StatusColumn)
            return statusBackground(MatchStatus::Incompatible);
        if (!tensor && node->guessed > 0 && index.column() == StatusColumn)
            return statusBackground(MatchStatus::Guessed);
        return {};
    case Qt::ForegroundRole:
        if (index.column() == StatusColumn && tensor && matched)
            return statusColor(leafStatus(node));
        return {};
    case Qt::ToolTipRole:
        if (tensor && m_side == Side::Target && matched) {
            const int m = m_document->mappingIndex(tensor->key);
            if (m >= 0) {
                const Mapping &mapping = m_document->result().mappings[static_cast<size_t>(m)];
                return QStringLiteral("%1\n← %2\n%3").arg(tensor->key, mappingSourceText(mapping, tensor->dtype), mapping.reason);
            }
        }
        if (tensor && m_side == Side::Source) {
            QString tip = tensor->key;
            const QStringList users = matched ? m_document->targetsOfSource(tensor->key) : QStringList();
            if (users.size() > 1)
                tip += tr("\nfeeds %1 targets:\n  %2").arg(users.size()).arg(users.join(QStringLiteral("\n  ")));
            const QStringList tied = m_document->tiedWith(tensor->key);
            if (!tied.isEmpty())
                tip += tr("\nsame storage as %1").arg(tied.join(QStringLiteral(", ")));
            return tip;
        }
        return tensor ? QVariant(tensor->key) : QVariant();
    case Qt::TextAlignmentRole:
        return index.column() == SizeColumn ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter)) : QVariant();
    case KeyRole:
        return tensor ? QVariant(tensor->key) : QVariant();
    case IsLeafRole:
        return tensor != nullptr;
    case StatusRole:
        return tensor && matched ? QVariant(static_cast<int>(leafStatus(node))) : QVariant();
    case SubtreeKeysRole:
        return keysUnder(index);
    }
    return {};
}

QVariant CheckpointTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Name");
    case ShapeColumn: return tr("Shape");
    case DTypeColumn: return tr("DType");
    case SizeColumn: return tr("Size");
    case StatusColumn: return m_side == Side::Source ? tr("Used by") : tr("Status");
    }
    return {};
}

Qt::ItemFlags CheckpointTreeModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags flags = QAbstractItemModel::flags(index);
    if (!index.isValid())
        return flags;
    if (m_side == Side::Source)
        flags |= Qt::ItemIsDragEnabled;
    else
        flags |= Qt::ItemIsDropEnabled;
    return flags;
}

QStringList CheckpointTreeModel::keysUnder(const QModelIndex &index) const
{
    QStringList keys;
    const Checkpoint *checkpoint = m_side == Side::Source ? m_document->source() : m_document->target();
    if (checkpoint == nullptr)
        return keys;
    std::vector<const Node *> stack{nodeOf(index)};
    while (!stack.empty()) {
        const Node *node = stack.back();
        stack.pop_back();
        if (node->tensor >= 0)
            keys << checkpoint->tensors()[static_cast<size_t>(node->tensor)].key;
        for (auto it = node->children.rbegin(); it != node->children.rend(); ++it)
            stack.push_back(it->get());
    }
    return keys;
}

QModelIndex CheckpointTreeModel::indexOfKey(const QString &key) const
{
    const Checkpoint *checkpoint = m_side == Side::Source ? m_document->source() : m_document->target();
    if (checkpoint == nullptr)
        return {};
    const int i = checkpoint->indexOf(key);
    return i >= 0 && static_cast<size_t>(i) < m_leafOfTensor.size() ? indexOfNode(m_leafOfTensor[static_cast<size_t>(i)]) : QModelIndex();
}

QStringList CheckpointTreeModel::mimeTypes() const { return {QString::fromLatin1(kMimeType)}; }

QMimeData *CheckpointTreeModel::mimeData(const QModelIndexList &indexes) const
{
    QStringList keys;
    QSet<QString> seen;
    bool subtree = false;
    for (const QModelIndex &index : indexes) {
        if (index.column() != NameColumn)
            continue;
        subtree = subtree || nodeOf(index)->tensor < 0;
        for (const QString &key : keysUnder(index)) {
            if (!seen.contains(key)) {
                seen.insert(key);
                keys << key;
            }
        }
    }
    auto *data = new QMimeData;
    const QJsonObject payload{{QStringLiteral("keys"), QJsonArray::fromStringList(keys)}, {QStringLiteral("subtree"), subtree}};
    data->setData(QString::fromLatin1(kMimeType), QJsonDocument(payload).toJson(QJsonDocument::Compact));
    data->setText(keys.join(QLatin1Char('\n')));
    return data;
}

QStringList CheckpointTreeModel::keysFromMime(const QMimeData *data)
{
    if (data == nullptr || !data->hasFormat(QString::fromLatin1(kMimeType)))
        return {};
    const QJsonObject payload = QJsonDocument::fromJson(data->data(QString::fromLatin1(kMimeType))).object();
    QStringList keys;
    for (const QJsonValue &value : payload.value(QStringLiteral("keys")).toArray())
        keys << value.toString();
    return keys;
}

Qt::DropActions CheckpointTreeModel::supportedDropActions() const { return Qt::CopyAction | Qt::LinkAction; }
Qt::DropActions CheckpointTreeModel::supportedDragActions() const { return Qt::CopyAction | Qt::LinkAction; }

const DragFitCache::Fit *CheckpointTreeModel::fitOf(const QMimeData *data, const QModelIndex &index) const
{
    if (m_side != Side::Target || !index.isValid() || !m_document->source() || !m_document->target() || data == nullptr)
        return nullptr;
    const QByteArray payload = data->data(QString::fromLatin1(kMimeType));
    const Node *node = nodeOf(index);
    if (const DragFitCache::Fit *cached = m_dragFits.find(payload, node))
        return cached;
    const QStringList keys = keysFromMime(data);
    if (keys.isEmpty())
        return nullptr;
    DragFitCache::Fit fit;
    if (node->tensor < 0) {
        // A subtree: automatic matching restricted to the two subtrees.
        fit.mappings = m_document->matchSubtrees(keys, keysUnder(index));
        fit.detail = tr("match %1 source keys onto this subtree: %2 pairs found").arg(keys.size()).arg(fit.mappings.size());
        fit.status = fit.mappings.empty() ? MatchStatus::Incompatible : MatchStatus::Fixable;
    } else {
        const QString target = m_document->target()->tensors()[static_cast<size_t>(node->tensor)].key;
        // Several keys (a layer group, per-layer leaves, q/k/v) are stacked or concatenated.
        fit.what = keys.front();
        const Mapping proposal = keys.size() == 1 ? m_document->proposeMapping(target, keys) : m_document->proposeGathered(target, keys, &fit.what);
        fit.status = proposal.status;
        fit.detail = proposal.status == MatchStatus::Fixable ? proposal.expression() + QStringLiteral(" — ") + proposal.reason : proposal.reason;
        fit.mappings.push_back(proposal);
    }
    return &m_dragFits.insert(payload, node, std::move(fit));
}

MatchStatus CheckpointTreeModel::dropFit(const QMimeData *data, const QModelIndex &index, QString *detail) const
{
    const DragFitCache::Fit *fit = fitOf(data, index);
    if (fit == nullptr)
        return MatchStatus::Unmapped;
    if (detail)
        *detail = fit->detail;
    return fit->status;
}

void CheckpointTreeModel::endDrag()
{
    m_dragFits.clear();
    m_dropModifiers = Qt::NoModifier;
}

bool CheckpointTreeModel::canDropMimeData(const QMimeData *data, Qt::DropAction, int row, int, const QModelIndex &parent) const
{
    if (row != -1)
        return false; // only drops ON an item
    const MatchStatus fit = dropFit(data, parent);
    if (fit == MatchStatus::Exact || fit == MatchStatus::Fixable)
        return true;
    // Incompatible drops of one key only with Shift held, and then only after the window
    // confirms (several keys that don't gather have no chain to force).
    const Qt::KeyboardModifiers modifiers = m_dropModifiers | QGuiApplication::keyboardModifiers();
    return fit == MatchStatus::Incompatible && (modifiers & Qt::ShiftModifier) && keysFromMime(data).size() == 1;
}

bool CheckpointTreeModel::dropMimeData(const QMimeData *data, Qt::DropAction action, int row, int column, const QModelIndex &parent)
{
    if (!canDropMimeData(data, action, row, column, parent))
        return false;
    // What the drag showed is what is applied: the cached fit, not a second computation.
    const DragFitCache::Fit fit = *fitOf(data, parent);
    const Node *node = nodeOf(parent);
    if (node->tensor < 0) {
        m_document->undoStack()->push(new SetMappingsCommand(
            m_document, tr("Match subtree %1 (%2 pairs)").arg(node->name).arg(fit.mappings.size()), fit.mappings));
        return true;
    }
    const Mapping &proposal = fit.mappings.front();
    if (proposal.status == MatchStatus::Incompatible) {
        // The window asks the user; it must not do so inside the drop (a modal dialog in the
        // middle of the drag's event handling): the question is queued until after it.
        const QStringList keys = keysFromMime(data);
        QMetaObject::invokeMethod(this, [this, target = proposal.target, keys, reason = proposal.reason] {
            Q_EMIT incompatibleDropRequested(target, keys, reason);
        }, Qt::QueuedConnection);
        return false;
    }
    // The history names the sources in the order they are stacked / concatenated.
    m_document->undoStack()->push(new SetMappingsCommand(m_document, tr("Map %1 ← %2").arg(proposal.target, fit.what), {proposal}));
    return true;
}

} // namespace graft::ui
