// Moved to core/common/binary_io.hpp (the tree ensemble in core/common writes with it); this
// forwarding header keeps src/pg building until its includes are updated.
#pragma once

#include "core/common/binary_io.hpp"
