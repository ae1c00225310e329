// CRC-32C (Castagnoli), table driven. Guards model payloads: it detects every error burst of
// up to 32 bits, so any single flipped byte of a payload is always caught.
#pragma once

#include <cstddef>
#include <cstdint>

namespace insight {

// Uses the SSE4.2 crc32 instruction when the CPU has it, the portable tables otherwise.
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0) noexcept;
// Table-driven version, always available (and the reference the unit tests compare with).
uint32_t crc32c_portable(const void* data, size_t size, uint32_t crc = 0) noexcept;

}  // namespace insight
