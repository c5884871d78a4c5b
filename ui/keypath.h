#pragma once
// How the key trees split a key into rows.

#include <QStringList>

namespace graft::ui {

/// Path components of a key: "features.0.weight", ".features[0].weight" and "params/fc/kernel"
/// split at . / [ ] and quotes; a key without any is one component.
QStringList keyPathComponents(const QString &key);

} // namespace graft::ui
