#pragma once
// One entry point per checkpoint format. Each builds a Checkpoint index from headers only
// (no tensor data is read) and validates every size and offset against the real file first.
// openCheckpoint() (checkpointopener.h) picks the right one.

#include "checkpoint/checkpoint.h"
#include "checkpoint/formats/ziparchive.h"

namespace graft {

struct EarlyPickle;

/// torch.save zip (>= 1.6, incl. 2.x): data.pkl through the allowlist unpickler, data/N storages;
/// a TorchScript archive goes on to readTorchScript(). `early`: data.pkl's unpickling started
/// before the directory was read (earlypickle.h), used when it is the member the directory names.
Result<Checkpoint> readTorchZip(const MappedFilePtr &file, const ZipArchive &archive, EarlyPickle *early = nullptr);
/// torch.jit.save archive whose folder prefix is `root` ("" or "name/"): data.pkl's modules
/// listed as state_dict() names them, with their classes' code/ declarations; constants.pkl's
/// tensors as other entries.
Result<Checkpoint> readTorchScript(const MappedFilePtr &file, const ZipArchive &archive, const QString &root);
/// True for a member only TorchScript archives have (constants.pkl, code/__torch__/...).
bool isTorchScriptMember(const QString &name);
/// torch.save legacy (< 1.6): pickles followed by raw storages.
Result<Checkpoint> readTorchLegacy(const MappedFilePtr &file);
/// A single .safetensors file.
Result<Checkpoint> readSafetensors(const MappedFilePtr &file);
/// `*.safetensors.index.json`: the shards it names, opened as one checkpoint.
Result<Checkpoint> readSafetensorsIndex(const QString &indexPath);
/// A single .npy file (v1, v2, v3).
Result<Checkpoint> readNpy(const MappedFilePtr &file);
/// .npz: stored or deflated .npy members; keys without ".npy".
Result<Checkpoint> readNpz(const MappedFilePtr &file, const ZipArchive &archive);
/// A bare .eqx (npy records back to back): keys "[0]", "[1]", ...
Result<Checkpoint> readEqx(const MappedFilePtr &file);
/// Flax msgpack (flax.serialization.to_bytes): the nested map's arrays, keys joined with '/'.
Result<Checkpoint> readFlaxMsgpack(const MappedFilePtr &file);
/// A Graft skeleton JSON (contract v1) and the .eqx leaves file it names, cross-checked.
Result<Checkpoint> readSkeleton(const QString &jsonPath);

} // namespace graft
