#include "inspectorwidget.h"

#include "constantvalue.h"
#include "mappingcommands.h"
#include "mappingdocument.h"
#include "statusstyle.h"
#include "mapping/gathering.h"
#include "tensor/tensorvalues.h"

#include <QChart>
#include <QChartView>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineSeries>
#include <QMessageBox>
#include <QPushButton>
#include <QToolButton>
#include <QValueAxis>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <algorithm>
#include <cmath>
#include <optional>

namespace graft::ui {
namespace {

constexpr qint64 kSampleValues = 200'000;
constexpr int kBins = 40;
constexpr int kListedSources = 6; // a 48-layer stack lists the first ones and the last

// "[64, <b>3</b>, 3, 3]": axes that differ from `other` in bold colour.
QString highlightedShape(const Shape &shape, const Shape &other)
{
    QStringList parts;
    for (size_t i = 0; i < shape.size(); ++i) {
        const bool differs = i >= other.size() || other[i] != shape[i] || shape.size() != other.size();
        parts << (differs ? QStringLiteral("<b style='color:#c62828'>%1</b>").arg(shape[i]) : QString::number(shape[i]));
    }
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

QString valuesText(const std::vector<double> &values)
{
    QStringList parts;
    for (size_t i = 0; i < std::min<size_t>(values.size(), 6); ++i)
        parts << QString::number(values[i], 'g', 5);
    if (values.size() > 6)
        parts << QStringLiteral("…");
    return parts.join(QStringLiteral(", "));
}

} // namespace

InspectorWidget::InspectorWidget(MappingDocument *document, QWidget *parent)
    : QWidget(parent), m_document(document), m_title(new QLabel(this)), m_shapes(new QLabel(this)), m_fix(new QLabel(this)),
      m_expression(new QLabel(this)), m_values(new QLabel(this)), m_suggestButton(new QPushButton(tr("Apply suggested fix"), this)),
      m_editButton(new QPushButton(tr("Edit transforms…"), this)), m_unmapButton(new QPushButton(tr("Unmap (keep target value)"), this)),
      m_buttons(new QHBoxLayout), m_chart(new QChartView(this))
{
    auto *layout = new QVBoxLayout(this);
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_shapes->setTextFormat(Qt::RichText);
    m_fix->setWordWrap(true);
    m_fix->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_values->setWordWrap(true);
    m_values->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_title);
    layout->addWidget(m_shapes);
    layout->addWidget(m_fix);
    m_expression->setWordWrap(true);
    m_expression->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_expression->setObjectName(QStringLiteral("inspectorExpression"));
    m_shapes->setObjectName(QStringLiteral("inspectorShapes"));
    layout->addWidget(m_expression);
    m_buttons->addWidget(m_suggestButton);
    m_buttons->addWidget(m_editButton);
    m_buttons->addWidget(m_unmapButton);
    m_buttons->addStretch();
    layout->addLayout(m_buttons);
    layout->addWidget(m_values);
    m_chart->setRenderHint(QPainter::Antialiasing);
    m_chart->setMinimumHeight(160);
    m_chart->chart()->legend()->setAlignment(Qt::AlignRight);
    m_chart->chart()->setMargins(QMargins(2, 2, 2, 2));
    layout->addWidget(m_chart, 1);

    connect(m_suggestButton, &QPushButton::clicked, this, &InspectorWidget::applySuggestedFix);
    connect(m_editButton, &QPushButton::clicked, this, &InspectorWidget::editChain);
    connect(m_unmapButton, &QPushButton::clicked, this, &InspectorWidget::unmap);
    connect(document, &MappingDocument::mappingsChanged, this, &InspectorWidget::refresh);
    connect(document, &MappingDocument::resultReset, this, &InspectorWidget::refresh);
    m_values->setObjectName(QStringLiteral("inspectorValues"));
    refresh();
}

InspectorWidget::~InspectorWidget()
{
    ++m_valuesGeneration;
    for (QFutureWatcherBase *watcher : findChildren<QFutureWatcherBase *>()) {
        watcher->disconnect(this);
        watcher->waitForFinished(); // a read holds copies only, but must not outlive the window
    }
}

void InspectorWidget::showTarget(const QString &targetKey)
{
    m_target = targetKey;
    refresh();
}

void InspectorWidget::setGuessActions(QAction *accept, QAction *reject)
{
    m_acceptGuessButton = new QToolButton(this);
    m_acceptGuessButton->setDefaultAction(accept);
    m_rejectGuessButton = new QToolButton(this);
    m_rejectGuessButton->setDefaultAction(reject);
    m_buttons->insertWidget(0, m_rejectGuessButton);
    m_buttons->insertWidget(0, m_acceptGuessButton);
    refresh();
}

void InspectorWidget::refresh()
{
    const Checkpoint *target = m_document->target();
    const Checkpoint *source = m_document->source();
    const int m = m_target.isEmpty() ? -1 : m_document->mappingIndex(m_target);
    const int t = target && !m_target.isEmpty() ? target->indexOf(m_target) : -1;
    const bool has = m >= 0 && t >= 0;
    m_suggestButton->setEnabled(has && source);
    m_editButton->setEnabled(has && source);
    m_unmapButton->setEnabled(has);
    const bool guessed = has && m_document->result().mappings[static_cast<size_t>(m)].status == MatchStatus::Guessed;
    for (QToolButton *button : {m_acceptGuessButton, m_rejectGuessButton}) {
        if (button != nullptr)
            button->setVisible(guessed);
    }
    if (!has) {
        m_title->setText(tr("<i>Select a target leaf or a row of the mapping table.</i>"));
        m_shapes->clear();
        m_fix->clear();
        m_expression->clear();
        m_expression->hide();
        m_values->clear();
        m_valuesKey.clear();
        ++m_valuesGeneration;
        plotHistogram({});
        return;
    }
    const Mapping &mapping = m_document->result().mappings[static_cast<size_t>(m)];
    const TensorEntry &leaf = target->tensors()[static_cast<size_t>(t)];
    const bool constant = mapping.origin == MatchOrigin::Constant;
    const QString from = constant ? tr("constant <b>%1</b>").arg(constantValueText(mapping.constant, leaf.dtype).toHtmlEscaped())
                         : mapping.sources.isEmpty() ? tr("<i>no source</i>")
                         : mapping.sources.size() > 1 ? tr("%1 sources").arg(mapping.sources.size())
                                                     : mapping.sources.join(QStringLiteral(", ")).toHtmlEscaped();
    m_title->setText(QStringLiteral("<b>%1</b> ← %2").arg(mapping.target.toHtmlEscaped(), from));
    QString shapes;
    Shape firstSourceShape;
    const bool several = mapping.sources.size() > 1;
    for (int i = 0; i < mapping.sources.size(); ++i) {
        const QString &key = mapping.sources[i];
        const int s = source ? source->indexOf(key) : -1;
        if (s < 0)
            continue;
        const TensorEntry &entry = source->tensors()[static_cast<size_t>(s)];
        if (firstSourceShape.empty())
            firstSourceShape = entry.shape;
        if (several && i == kListedSources && mapping.sources.size() > kListedSources + 1) {
            shapes += tr("… %1 more sources<br>").arg(mapping.sources.size() - i - 1);
            i = static_cast<int>(mapping.sources.size()) - 2; // the last one is listed too
            continue;
        }
        // Several sources: named w0, w1, … as in the expression, each with its role in its layer.
        const QString role = roleInLayer(key);
        shapes += several ? tr("<code>w%1</code> = %2 %3 %4 <i>(role %5)</i>")
                                .arg(i)
                                .arg(key.toHtmlEscaped(), highlightedShape(entry.shape, firstSourceShape), dtypeName(entry.dtype), role.toHtmlEscaped())
                          : tr("source %1 %2").arg(highlightedShape(entry.shape, leaf.shape), dtypeName(entry.dtype));
        // Tied weights: one tensor saved under several names.
        const QStringList tied = m_document->tiedWith(key);
        if (!tied.isEmpty())
            shapes += tr(" — same storage as %1").arg(tied.join(QStringLiteral(", ")).toHtmlEscaped());
        shapes += QStringLiteral("<br>");
    }
    shapes += tr("target %1 %2").arg(highlightedShape(leaf.shape, mapping.sources.isEmpty() ? leaf.shape : firstSourceShape),
                                      dtypeName(leaf.dtype));
    m_shapes->setText(shapes);
    const QString color = statusColor(mapping.status).name();
    const QString review = mapping.status == MatchStatus::Guessed
                               ? tr("<br><i>Decided by order and shape alone: check it, then accept (Ctrl+Return) or reject (Ctrl+Backspace).</i>")
                               : QString();
    const QString expression = mapping.transforms.empty() ? QString() : QStringLiteral("<code>%1</code>").arg(mapping.expression().toHtmlEscaped());
    m_fix->setText(QStringLiteral("<span style='color:%1'><b>%2</b></span> %3<br>%4%5")
                       .arg(color, statusLabel(mapping.status), several ? tr("(%1 sources)").arg(mapping.sources.size()) : expression,
                            mapping.reason.toHtmlEscaped(), review));
    m_expression->setText(several ? tr("target = %1").arg(expression) : QString());
    m_expression->setVisible(several);
    const QString written = constant ? tr("written: %1 (constant)").arg(constantValueText(mapping.constant, leaf.dtype)) : QString();
    readValues(mapping.sources.isEmpty() ? QString() : mapping.sources.front(), written);
}

void InspectorWidget::readValues(const QString &sourceKey, const QString &written)
{
    // The values are read off the GUI thread (a deflated .npz member is inflated whole to read
    // its first values); a read for an earlier selection is dropped when it arrives.
    const QString key = QStringList{QString::number(m_document->generation()), sourceKey, m_target, written}.join(QLatin1Char('\n'));
    if (key == m_valuesKey)
        return; // shown already (an edit of another row refreshed the inspector)
    m_valuesKey = key;
    const quint64 generation = ++m_valuesGeneration;
    m_values->setText(written.isEmpty() ? tr("reading values…") : written + QStringLiteral("\n") + tr("reading values…"));
    plotHistogram({});
    const std::optional<Checkpoint> source = m_document->source() ? std::optional<Checkpoint>(*m_document->source()) : std::nullopt;
    const Checkpoint target = *m_document->target();
    auto *watcher = new QFutureWatcher<Samples>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation, written] {
        watcher->deleteLater();
        if (generation != m_valuesGeneration)
            return; // another selection since: never show a stale read
        const Samples samples = watcher->result();
        QStringList lines;
        if (!written.isEmpty())
            lines << written;
        lines << samples.text;
        m_values->setText(lines.join(QLatin1Char('\n')));
        plotHistogram(samples.values);
        Q_EMIT valuesShown();
    });
    watcher->setFuture(QtConcurrent::run([source, target, sourceKey, targetKey = m_target]() {
        // One bounded read per tensor: the first values listed are the sample's first ones.
        Samples samples;
        const auto read = [&](const Checkpoint &checkpoint, const QString &key, const QString &name) {
            Result<std::vector<double>> v = tensorValues(checkpoint, checkpoint.indexOf(key), kSampleValues);
            samples.text << QStringLiteral("%1: %2").arg(name, v ? valuesText(*v) : v.error().message);
            if (v)
                samples.values.emplace_back(name, std::move(v).value());
        };
        if (source && !sourceKey.isEmpty() && source->indexOf(sourceKey) >= 0)
            read(*source, sourceKey, QObject::tr("source"));
        read(target, targetKey, QObject::tr("target (initial)"));
        return samples;
    }));
}

void InspectorWidget::plotHistogram(const std::vector<std::pair<QString, std::vector<double>>> &samples)
{
    QChart *chart = m_chart->chart();
    chart->removeAllSeries();
    // removeAxis() gives the axis back to us (removeAllSeries() deletes the series itself);
    // without the delete every refresh leaked two axes (LeakSanitizer).
    for (QAbstractAxis *axis : chart->axes()) {
        chart->removeAxis(axis);
        delete axis;
    }
    if (samples.empty()) {
        chart->setTitle(QString());
        return;
    }
    double lo = 0;
    double hi = 0;
    std::vector<double> all;
    for (const auto &sample : samples)
        all.insert(all.end(), sample.second.begin(), sample.second.end());
    histogram(all, 1, &lo, &hi); // common range
    auto *xAxis = new QValueAxis;
    auto *yAxis = new QValueAxis;
    chart->addAxis(xAxis, Qt::AlignBottom);
    chart->addAxis(yAxis, Qt::AlignLeft);
    double maxCount = 1;
    const QColor colors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e)};
    int c = 0;
    // Few values make a comb of empty bins: use about sqrt(n) bins, at most kBins.
    size_t largest = 1;
    for (const auto &sample : samples)
        largest = std::max(largest, sample.second.size());
    const int bins = std::clamp(static_cast<int>(std::sqrt(static_cast<double>(largest))), 4, kBins);
    for (const auto &[name, values] : samples) {
        double l = lo;
        double h = hi;
        const std::vector<qint64> counts = histogram(values, bins, &l, &h);
        auto *series = new QLineSeries;
        series->setName(name);
        series->setColor(colors[c++ % 2]);
        const double width = (h - l) / bins;
        for (int b = 0; b < bins; ++b) {
            series->append(l + width * b, static_cast<double>(counts[static_cast<size_t>(b)]));
            series->append(l + width * (b + 1), static_cast<double>(counts[static_cast<size_t>(b)]));
            maxCount = std::max(maxCount, static_cast<double>(counts[static_cast<size_t>(b)]));
        }
        chart->addSeries(series);
        series->attachAxis(xAxis);
        series->attachAxis(yAxis);
    }
    xAxis->setRange(lo, hi);
    yAxis->setRange(0, std::max(4.0, maxCount * 1.05));
    yAxis->applyNiceNumbers();
    yAxis->setLabelFormat(QStringLiteral("%.0f"));
    xAxis->setLabelFormat(QStringLiteral("%.3g"));
    chart->setTitle(tr("Histogram of values"));
}

void InspectorWidget::applySuggestedFix()
{
    const int m = m_document->mappingIndex(m_target);
    if (m < 0)
        return;
    const Mapping &current = m_document->result().mappings[static_cast<size_t>(m)];
    if (current.sources.size() != 1)
        return;
    Mapping proposal = m_document->proposeMapping(m_target, current.sources);
    m_document->undoStack()->push(new SetMappingsCommand(m_document, tr("Apply suggested fix to %1").arg(m_target), {proposal}));
}

void InspectorWidget::editChain()
{
    const int m = m_document->mappingIndex(m_target);
    if (m < 0)
        return;
    const Mapping &current = m_document->result().mappings[static_cast<size_t>(m)];
    QJsonArray chain;
    for (const Transform &t : current.transforms)
        chain.append(transformToJson(t));
    bool ok = false;
    const QString sources = QInputDialog::getText(this, tr("Edit mapping"), tr("Source key(s), comma-separated:"), QLineEdit::Normal,
                                                  current.sources.join(QStringLiteral(", ")), &ok);
    if (!ok)
        return;
    const QString text = QInputDialog::getMultiLineText(
        this, tr("Edit transforms"),
        tr("Transform chain for %1 (JSON list, e.g. [{\"op\": \"transpose\", \"perm\": [1, 0]}]):").arg(m_target),
        QString::fromUtf8(QJsonDocument(chain).toJson(QJsonDocument::Compact)), &ok);
    if (!ok)
        return;
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(text.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !document.isArray()) {
        QMessageBox::warning(this, tr("Edit transforms"), tr("Not a JSON list: %1").arg(error.errorString()));
        return;
    }
    TransformChain parsed;
    for (const QJsonValue &value : document.array()) {
        Result<Transform> transform = transformFromJson(value.toObject());
        if (!transform) {
            QMessageBox::warning(this, tr("Edit transforms"), transform.error().message);
            return;
        }
        parsed.push_back(*transform);
    }
    QStringList keys;
    for (const QString &key : sources.split(QLatin1Char(','), Qt::SkipEmptyParts))
        keys << key.trimmed();
    const Mapping proposal = m_document->proposeMapping(m_target, keys, parsed);
    if (proposal.status == MatchStatus::Incompatible) {
        QMessageBox::warning(this, tr("Edit transforms"), tr("These transforms do not produce the target: %1").arg(proposal.reason));
        return;
    }
    m_document->undoStack()->push(new SetMappingsCommand(m_document, tr("Change transforms of %1").arg(m_target), {proposal}));
}

void InspectorWidget::unmap()
{
    if (m_document->mappingIndex(m_target) < 0)
        return;
    m_document->undoStack()->push(new SetMappingsCommand(m_document, tr("Unmap %1").arg(m_target), {m_document->keptMapping(m_target)}));
}

} // namespace graft::ui
