#pragma once
// Mapping › Auto-match…: which strategies to run (by name, by order and shape) and whether the
// mappings made by hand survive the new match.

#include "mapping/automatcher.h"

#include <QDialog>

class QCheckBox;

namespace graft::ui {

class AutoMatchDialog : public QDialog {
    Q_OBJECT
public:
    explicit AutoMatchDialog(QWidget *parent = nullptr);

    /// `current` with the choices of the dialog applied: the strategies, and without the
    /// explicit and kept mappings unless they are to be kept.
    MatchOptions options(const MatchOptions &current) const;

private:
    QCheckBox *m_names;
    QCheckBox *m_order;
    QCheckBox *m_keepEdits;
};

} // namespace graft::ui
