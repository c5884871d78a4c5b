#pragma once
// The inspector for the selected target leaf and its source(s): shapes side by side with the
// differing axes highlighted, dtypes, the fix, buttons to apply the suggested fix, edit the
// transform chain or unmap, the first values and a histogram of source vs. target values.

#include <QWidget>

class QAction;
class QHBoxLayout;
class QLabel;
class QPushButton;
class QToolButton;
class QChartView;

namespace graft::ui {

class MappingDocument;

class InspectorWidget : public QWidget {
    Q_OBJECT
public:
    explicit InspectorWidget(MappingDocument *document, QWidget *parent = nullptr);

    /// Shows the target leaf `targetKey` (empty: nothing selected).
    void showTarget(const QString &targetKey);
    QString currentTarget() const { return m_target; }
    /// Buttons for the review queue's Accept / Reject actions, shown while a guess is inspected.
    void setGuessActions(QAction *accept, QAction *reject);

private:
    void refresh();
    void applySuggestedFix();
    void editChain();
    void unmap();
    void updateHistogram(const QStringList &sources);

    MappingDocument *m_document;
    QString m_target;
    QLabel *m_title;
    QLabel *m_shapes;
    QLabel *m_fix;
    QLabel *m_expression; ///< several sources: "target = np.stack([w0, w1, …])…"
    QLabel *m_values;
    QPushButton *m_suggestButton;
    QPushButton *m_editButton;
    QPushButton *m_unmapButton;
    QHBoxLayout *m_buttons;
    QToolButton *m_acceptGuessButton = nullptr;
    QToolButton *m_rejectGuessButton = nullptr;
    QChartView *m_chart;
};

} // namespace graft::ui
