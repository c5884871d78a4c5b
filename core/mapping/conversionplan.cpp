#include "mapping/conversionplan.h"

#include "tensor/tensorengine.h"

#include <QFileInfo>
#include <QSet>

#include <limits>

namespace graft {
namespace {

// The closures hold a Checkpoint by value: a shared handle on its index and maps (a copy costs
// two reference counts, not the index), so a 100k-leaf plan stays linear.
std::function<Result<TensorBytes>()> readFrom(const Checkpoint &checkpoint, int index)
{
    return [checkpoint, index]() { return checkpoint.read(index); };
}

std::function<Result<TensorBytes>()> transformFrom(const Checkpoint &source, std::vector<int> indices, TransformChain chain,
                                                   QString target)
{
    return [source, indices = std::move(indices), chain = std::move(chain), target]() -> Result<TensorBytes> {
        std::vector<TensorBytes> held; // keeps maps/buffers alive during apply()
        std::vector<TensorInput> inputs;
        for (int index : indices) {
            Result<TensorBytes> bytes = source.read(index);
            if (!bytes)
                return bytes.error();
            const TensorEntry &entry = source.tensors()[static_cast<size_t>(index)];
            held.push_back(*bytes);
            inputs.push_back({held.back().data(), {entry.dtype, entry.shape}});
        }
        if (preservesBytes(chain))
            return held.front(); // reshape only: the bytes are already right
        if (inputs.size() == 1) {
            if (std::optional<WidenedTensor> widened = applyExactWidening(inputs.front(), chain))
                return std::move(widened->bytes); // bf16/fp16 -> float32, without LibTorch
        }
        Result<TensorEngine *> engine = tensorEngine();
        if (!engine)
            return engine.error();
        Result<TensorOutput> output = (*engine)->apply(inputs, chain);
        if (!output)
            return Error{source.path(), QStringLiteral("transforming into '%1': %2").arg(target, output.error().message)};
        return TensorBytes::owned(std::move(output->bytes));
    };
}

} // namespace

Result<ConversionPlan> planConversion(const Checkpoint &source, const Checkpoint &target, const MappingResult &mapping,
                                      bool keepUnmapped, bool acceptGuesses)
{
    ConversionPlan plan;
    QStringList problems;
    QSet<QString> ambiguous;
    for (const Ambiguity &a : mapping.ambiguous)
        ambiguous.insert(a.target);

    plan.leaves.reserve(target.tensors().size());
    for (size_t t = 0; t < target.tensors().size(); ++t) {
        const TensorEntry &leaf = target.tensors()[t];
        const int targetIndex = static_cast<int>(t);
        // The matcher lists the mappings in the target's order: the lookup is for the others.
        const bool inOrder = t < mapping.mappings.size() && mapping.mappings[t].target == leaf.key;
        const int m = inOrder ? static_cast<int>(t) : mapping.indexOfTarget(leaf.key);
        const Mapping *entry = m >= 0 ? &mapping.mappings[static_cast<size_t>(m)] : nullptr;
        OutputLeaf output{leaf.key, {leaf.dtype, leaf.shape}, {}};
        const bool mapped = entry != nullptr
                            && (entry->status == MatchStatus::Exact || entry->status == MatchStatus::Fixable
                                || (entry->status == MatchStatus::Guessed && acceptGuesses));
        if (mapped && entry->origin == MatchOrigin::Constant) {
            const qint64 expected = checkedNumel(leaf.shape, std::numeric_limits<qint64>::max() / 16) * dtypeSize(leaf.dtype);
            if (expected != entry->constant.size())
                return Error{target.path(), QStringLiteral("constant for '%1' has %2 bytes, the leaf needs %3").arg(leaf.key).arg(entry->constant.size()).arg(expected)};
            const QByteArray bytes = entry->constant;
            output.produce = [bytes]() -> Result<TensorBytes> {
                return TensorBytes::owned(std::vector<uchar>(bytes.begin(), bytes.end()));
            };
            ++plan.fromSource;
        } else if (mapped) {
            std::vector<int> indices;
            for (const QString &key : entry->sources) {
                const int index = source.indexOf(key);
                if (index < 0)
                    return Error{source.path(), QStringLiteral("mapping for '%1' names source '%2', which is not in the file").arg(leaf.key, key)};
                indices.push_back(index);
            }
            std::vector<TensorSpec> specs;
            for (int index : indices)
                specs.push_back({source.tensors()[static_cast<size_t>(index)].dtype, source.tensors()[static_cast<size_t>(index)].shape});
            Result<TensorSpec> produced = inferTransforms(specs, entry->transforms);
            if (!produced || !(*produced == output.spec))
                return Error{source.path(), QStringLiteral("mapping for '%1' does not produce %2 %3").arg(leaf.key, dtypeName(leaf.dtype), shapeToString(leaf.shape))};
            if (indices.size() == 1 && entry->transforms.empty())
                output.produce = readFrom(source, indices.front());
            else
                output.produce = transformFrom(source, indices, entry->transforms, leaf.key);
            ++plan.fromSource;
        } else {
            const bool deliberate = leaf.kind == LeafKind::Scalar || (entry != nullptr && entry->status == MatchStatus::Kept);
            if (!deliberate) {
                const QString why = ambiguous.contains(leaf.key) ? QStringLiteral("ambiguous")
                                    : entry != nullptr && entry->status == MatchStatus::Guessed
                                        ? QStringLiteral("guessed from %1 by order and shape, not accepted").arg(entry->sources.join(QStringLiteral(", ")))
                                    : entry != nullptr ? matchStatusName(entry->status)
                                                       : QStringLiteral("unmapped");
                const QString text = QStringLiteral("%1: %2").arg(leaf.key, why);
                if (!keepUnmapped)
                    problems << text;
                else
                    plan.warnings << text + QStringLiteral(" (keeps the target's values)");
            }
            output.produce = readFrom(target, targetIndex);
            ++plan.keptFromTarget;
        }
        plan.leaves.push_back(std::move(output));
    }
    if (!problems.isEmpty()) {
        const int shown = std::min<int>(problems.size(), 5);
        return Error{target.path(), QStringLiteral("%1 target leaves have no usable source (%2%3); map them, accept guesses with --accept-guesses, or keep the target's values with --keep-unmapped")
                                        .arg(problems.size())
                                        .arg(problems.mid(0, shown).join(QStringLiteral("; ")))
                                        .arg(problems.size() > shown ? QStringLiteral("; …") : QString())};
    }
    return plan;
}

namespace {

// A path as a Python string literal's contents.
QString pythonQuoted(const QString &path)
{
    return QString(path).replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char('"'), QStringLiteral("\\\""));
}

} // namespace

QString flaxLoadingSnippet(const QString &msgpackPath)
{
    return QStringLiteral("from flax import serialization\n"
                          "variables = ...  # the target's tree, e.g. model.init(rng, x) (same structure)\n"
                          "with open(\"%1\", \"rb\") as f:\n"
                          "    variables = serialization.from_bytes(variables, f.read())\n")
        .arg(pythonQuoted(msgpackPath));
}

QString eqxLoadingSnippet(const QString &eqxPath)
{
    return QStringLiteral("import equinox as eqx\n"
                          "model = ...  # build the model exactly as for the skeleton (same structure)\n"
                          "model = eqx.tree_deserialise_leaves(\"%1\", like=model)\n"
                          "# a (model, state) skeleton: model, state = eqx.tree_deserialise_leaves(\"%1\", like=(model, state))\n")
        .arg(pythonQuoted(eqxPath)); // the path written
}

} // namespace graft
