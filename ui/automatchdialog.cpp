#include "automatchdialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QVBoxLayout>

namespace graft::ui {

AutoMatchDialog::AutoMatchDialog(QWidget *parent)
    : QDialog(parent), m_names(new QCheckBox(tr("By name (canonical keys, rename rules, synonyms, fused q/k/v)"), this)),
      m_order(new QCheckBox(tr("By order and shape (alignment between name matches)"), this)),
      m_keepEdits(new QCheckBox(tr("Keep mappings made by hand"), this))
{
    setWindowTitle(tr("Automatic matching"));
    auto *layout = new QVBoxLayout(this);
    m_names->setChecked(true);
    m_order->setChecked(true);
    m_keepEdits->setChecked(true);
    layout->addWidget(m_names);
    layout->addWidget(m_order);
    layout->addWidget(m_keepEdits);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

MatchOptions AutoMatchDialog::options(const MatchOptions &current) const
{
    MatchOptions options = current;
    options.useNames = m_names->isChecked();
    options.useOrder = m_order->isChecked();
    if (!m_keepEdits->isChecked()) {
        options.explicitMappings.clear();
        options.keptTargets.clear();
    }
    return options;
}

} // namespace graft::ui
