#pragma once
// Hostile pickled models and TorchScript archives for tst_hostileinputs: one file per way a
// module object can be wrong, each with the part of the error it must give.

#include "hostilebuilders.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace graft::test::hostile {

/// Value opcodes of collections.OrderedDict() filled with `items` (SETITEMS body).
inline QByteArray orderedDict(const QByteArray &items = QByteArray())
{
    QByteArray out = global("collections", "OrderedDict") + ")R";
    if (!items.isEmpty())
        out += '(' + items + 'u';
    return out;
}

/// Value opcodes of a pickled nn.Module as torch.save(model) writes it: NEWOBJ of the class,
/// BUILD with training, _parameters (`parameters` as SETITEMS body), _buffers and `modules`
/// (value opcodes of _modules). `memo`: BINPUT index given to the object (-1: none).
inline QByteArray moduleObject(const char *module, const char *name, const QByteArray &parameters, const QByteArray &modules,
                               int memo = -1)
{
    QByteArray out = global(module, name) + ")\x81";
    if (memo >= 0)
        out += 'q' + le(quint64(memo), 1);
    return out + "}(" + str("training") + '\x88' + str("_parameters") + orderedDict(parameters) + str("_buffers") + orderedDict()
        + str("_modules") + modules + "ub";
}

/// `depth` modules each holding the next as its only child "m".
inline QByteArray nestedModules(int depth)
{
    QByteArray inner = moduleObject("torch.nn.modules.linear", "Identity", QByteArray(), orderedDict());
    for (int i = 1; i < depth; ++i)
        inner = moduleObject("torch.nn.modules.container", "Sequential", QByteArray(), orderedDict(str("m") + inner));
    return inner;
}

/// A TorchScript archive: root "m/", data.pkl, one class source, constants.pkl and records.
inline QByteArray scriptArchive(const QByteArray &dataPickle, const QByteArray &classSource, const QByteArray &constants,
                                const QList<QPair<QByteArray, QByteArray>> &records = {})
{
    QList<QPair<QByteArray, QByteArray>> members = {{"m/data.pkl", dataPickle}, {"m/code/__torch__/net.py", classSource},
                                                     {"m/constants.pkl", constants}, {"m/version", "3\n"}};
    members += records;
    return storedZip(members);
}

/// A list of `count` modules that all share one state dict of `attributes` entries (the memo):
/// small to write, count x attributes to look at.
inline QByteArray sharedHugeState(int count, int attributes)
{
    QByteArray state = QByteArray("}q\x01(", 4) + str("_parameters") + orderedDict() + str("_modules") + orderedDict();
    for (int i = 0; i < attributes; ++i)
        state += str("a" + QByteArray::number(i)) + integer(i);
    state += 'u';
    QByteArray out = QByteArray("\x80\x02]", 3) + '(' + global("__main__", "Net") + QByteArray("q\x00)\x81", 4) + state + 'b';
    for (int i = 1; i < count; ++i)
        out += QByteArray("h\x00)\x81h\x01" "b", 7);
    return out + "e.";
}

struct ModuleCase {
    const char *name;
    const char *fileName;
    QByteArray bytes;
    QString message;
};

inline QList<ModuleCase> moduleCases()
{
    const QByteArray proto("\x80\x02", 2);
    const QByteArray weight = str("weight") + tensor(16, 0, {4}, {1});
    const QByteArray netClass = "class Net(Module):\n  __parameters__ = [\"w\", ]\n  __buffers__ = []\n  w : Tensor\n";
    const QByteArray scriptNet = proto + global("__torch__.net", "Net") + ")\x81}(" + str("training") + '\x88' + str("w")
        + tensor(16, 0, {4}, {1}) + "ub.";
    return {
        {"module: _modules is a list", "t.pth",
         torchZip(proto + moduleObject("torch.nn.modules.container", "Sequential", weight, "]") + '.'), "_modules is list, not a dict"},
        {"module: contains itself", "t.pth",
         torchZip(proto + moduleObject("__main__", "Net", weight, orderedDict(str("self") + QByteArray("h\x00", 2)), 0) + '.'),
         "module 'self' contains itself"},
        {"module: parameter made by a call", "t.pth",
         torchZip(proto + moduleObject("__main__", "Net", str("weight") + global("__main__", "make_weight") + '(' + integer(3) + "tR",
                                       orderedDict()) + '.'),
         "parameter 'weight' needs code to be produced: it is the result of __main__.make_weight"},
        {"module: parameter is a string", "t.pth",
         torchZip(proto + moduleObject("__main__", "Net", str("weight") + str("zeros"), orderedDict()) + '.'), "parameter 'weight' is str, not a tensor"},
        {"module: a quantized tensor outside _parameters", "t.pth",
         torchZip(proto + global("__main__", "QNet") + ")\x81}(" + str("_parameters") + orderedDict() + str("_modules") + orderedDict()
                  + str("_packed") + global("torch._utils", "_rebuild_qtensor") + '(' + integer(1) + "tR" + "ub."),
         "holds '_packed', made by torch._utils._rebuild_qtensor(…), which needs code to be produced"},
        {"module: 20,000 modules sharing one state of 20,000 attributes", "t.pth", torchZip(sharedHugeState(20'000, 20'000)),
         "shared so often"},
        {"module: 2,000 nested modules", "t.pth", torchZip(proto + nestedModules(2000) + '.'), "nested deeper than"},
        {"module: legacy, _modules is a list", "t.pth",
         legacyTorch(proto + moduleObject("torch.nn.modules.container", "Sequential", weight, "]") + '.'), "_modules is list, not a dict"},
        {"torchscript: no data.pkl", "t.pt",
         storedZip({{"m/constants.pkl", proto + ")."}, {"m/code/__torch__/net.py", netClass}, {"m/version", "3\n"}}),
         "TorchScript archive without data.pkl"},
        {"torchscript: constant's record missing", "t.pt",
         scriptArchive(scriptNet, netClass, proto + tensor(16, 0, {4}, {1}) + "\x85.", {{"m/data/0", QByteArray(64, '\0')}}),
         "constants.pkl: constant CONSTANTS.c0: storage '0' is missing from the archive"},
        {"torchscript: constants.pkl not a tuple", "t.pt",
         scriptArchive(scriptNet, netClass, proto + "}.", {{"m/data/0", QByteArray(64, '\0')}}), "constants.pkl holds dict, not a tuple"},
        {"torchscript: parameter is an int", "t.pt",
         scriptArchive(proto + global("__torch__.net", "Net") + ")\x81}(" + str("w") + integer(3) + "ub.", netClass, proto + ")."),
         "parameter 'w' is int, not a tensor"},
        {"torchscript: parameter record missing", "t.pt", scriptArchive(scriptNet, netClass, proto + ")."),
         "storage '0' is missing from the archive"},
    };
}

} // namespace graft::test::hostile
