#pragma once
// How a constant leaf's value reads (a BatchNorm first-time flag set to False), for the mapping
// table, the trees and the inspector.

#include "base/dtype.h"
#include "mapping/mapping.h"

#include <QByteArray>
#include <QString>

namespace graft::ui {

/// "False", "0.5", "[1, 2, 3]" for little-endian `bytes` of `dtype` (at most 8 values shown;
/// a byte count that is no whole number of values gives "? bytes").
QString constantValueText(const QByteArray &bytes, DType dtype);

/// What the mapping table and trees show as a mapping's source: the source keys, or "= False"
/// for a constant (origin Constant), given the target leaf's dtype.
QString mappingSourceText(const Mapping &mapping, DType targetDtype);

} // namespace graft::ui
