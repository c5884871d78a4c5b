#pragma once
// `graft-cli inspect --verify`: reads every tensor's bytes once and checks what the format
// allows. Zip records (torch.save storages, .npz members) carry a CRC-32, checked on the
// first read of each record (Checkpoint::read); safetensors, .eqx, .npy and legacy torch files
// carry none, and their lengths and offsets were already checked when the file was opened.

#include "checkpoint/checkpoint.h"

namespace graft {

struct VerifyReport {
    qint64 tensors = 0;        ///< tensors whose bytes were read
    qint64 checkedRecords = 0; ///< zip records whose CRC-32 matched
    qint64 bytes = 0;          ///< tensor bytes read
};

/// Reads every tensor of `checkpoint`. The first failure is returned: it names the file and
/// the tensor, and for a CRC mismatch the record. A checkpoint without tensors verifies.
Result<VerifyReport> verifyCheckpoint(const Checkpoint &checkpoint);

} // namespace graft
