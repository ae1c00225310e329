// CRC-32C (Castagnoli), table driven. Guards model payloads: it detects every error burst of
// up to 32 bits, so any single flipped byte of a payload is always caught.
#pragma once

#include <cstddef>
#include <cstdint>

namespace insight {

uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0) noexcept;

}  // namespace insight
