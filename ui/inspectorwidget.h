#pragma once
// The inspector for the selected target leaf and its source(s): shapes side by side with the
// differing axes highlighted, dtypes, the fix, buttons to apply the suggested fix, edit the
// transform chain or unmap, the first values and a histogram of source vs. target values.

#include <QStringList>
#include <QWidget>

#include <utility>
#include <vector>

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
    /// Waits for a value read still running.
    ~InspectorWidget() override;

    /// Shows the target leaf `targetKey` (empty: nothing selected).
    void showTarget(const QString &targetKey);
    QString currentTarget() const { return m_target; }
    /// Buttons for the review queue's Accept / Reject actions, shown while a guess is inspected.
    void setGuessActions(QAction *accept, QAction *reject);

Q_SIGNALS:
    /// The values and histogram of the current selection arrived (read in the background).
    void valuesShown();

private:
    /// What a background read brings: "source: 1, 2, …" lines and the values for the histogram.
    struct Samples {
        QStringList text;
        std::vector<std::pair<QString, std::vector<double>>> values;
    };
    void refresh();
    void readValues(const QString &sourceKey, const QString &written);
    void applySuggestedFix();
    void editChain();
    void unmap();
    void plotHistogram(const std::vector<std::pair<QString, std::vector<double>>> &samples);

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
    QString m_valuesKey;         ///< what the values shown (or being read) are of
    quint64 m_valuesGeneration = 0; ///< a read's result is shown only if this is unchanged
};

} // namespace graft::ui
