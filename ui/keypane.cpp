#include "keypane.h"

#include "keyfilterproxymodel.h"
#include "keytreeview.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QVBoxLayout>

namespace graft::ui {

KeyPane::KeyPane(CheckpointTreeModel *model, CheckpointTreeModel::Side side, QWidget *parent)
    : QWidget(parent), m_side(side), m_model(model), m_proxy(new KeyFilterProxyModel(this))
{
    const bool source = side == CheckpointTreeModel::Side::Source;
    m_proxy->setSourceModel(model);
    m_proxy->setKeyRole(CheckpointTreeModel::KeyRole);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_title = new QLabel(source ? tr("<b>Source</b> — File › Open Source… or drop a file here")
                                : tr("<b>Target</b> — File › Open Target… or drop a file here"),
                         this);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *filterRow = new QHBoxLayout;
    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter keys (substring)"));
    m_filter->setClearButtonEnabled(true);
    m_regex = new QCheckBox(tr("regex"), this);
    filterRow->addWidget(m_filter);
    filterRow->addWidget(m_regex);
    m_view = new KeyTreeView(this);
    m_view->setModel(m_proxy);
    m_view->setTreeModel(model);
    m_view->header()->setSectionResizeMode(CheckpointTreeModel::NameColumn, QHeaderView::Stretch);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->resizeSection(CheckpointTreeModel::StatusColumn, source ? 190 : 90);
    m_view->header()->resizeSection(CheckpointTreeModel::ShapeColumn, 110);
    m_view->header()->resizeSection(CheckpointTreeModel::DTypeColumn, 70);
    m_view->header()->resizeSection(CheckpointTreeModel::SizeColumn, 75);
    // One Tab press from tree to tree: the filter line and its checkbox are out of the Tab
    // chain (Ctrl+F or a click reaches them), and focusing the pane focuses its tree.
    m_filter->setFocusPolicy(Qt::ClickFocus);
    m_regex->setFocusPolicy(Qt::ClickFocus);
    setFocusProxy(m_view);
    connect(m_filter, &QLineEdit::textChanged, this, &KeyPane::applyFilter);
    connect(m_regex, &QCheckBox::toggled, this, &KeyPane::applyFilter);
    connect(m_view, &KeyTreeView::filesDropped, this, &KeyPane::filesDropped);
    layout->addWidget(m_title);
    layout->addLayout(filterRow);
    layout->addWidget(m_view);
}

void KeyPane::applyFilter()
{
    const QString error = m_view->setKeyFilter(m_filter->text(), m_regex->isChecked());
    m_filter->setStyleSheet(error.isEmpty() ? QString() : QStringLiteral("background: #fbdfdf"));
    m_filter->setToolTip(error);
}

void KeyPane::setSummary(const QString &summary)
{
    m_title->setText(m_side == CheckpointTreeModel::Side::Source ? tr("<b>Source</b> %1").arg(summary.toHtmlEscaped())
                                                                 : tr("<b>Target</b> %1").arg(summary.toHtmlEscaped()));
}

void KeyPane::expandForTensorCount(size_t tensorCount)
{
    if (m_view->model()->rowCount() > 0 && tensorCount <= 400)
        m_view->expandAll(); // small models: show every leaf; big ones stay collapsed
    else
        m_view->expandToDepth(0);
}

void KeyPane::selectKey(const QString &key)
{
    const QModelIndex index = m_proxy->mapFromSource(m_model->indexOfKey(key));
    if (!index.isValid())
        return;
    m_view->scrollTo(index);
    m_view->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

QStringList KeyPane::selectedKeys() const
{
    QStringList keys;
    for (const QModelIndex &index : m_view->selectionModel()->selectedRows()) {
        const QString key = index.data(CheckpointTreeModel::KeyRole).toString();
        if (!key.isEmpty())
            keys << key;
    }
    return keys;
}

void KeyPane::focusFilter()
{
    m_filter->setFocus();
    m_filter->selectAll();
}

} // namespace graft::ui
