// libFuzzer harness: a saved mapping profile (JSON).
#include "fuzzcommon.h"
#include "mapping/profile.h"

using namespace graft;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = fuzz::writeInput(data, size, QStringLiteral("input.graftprofile.json"));
    Result<Profile> profile = loadProfile(path);
    if (profile)
        (void)profile->toMatchOptions();
    return 0;
}
