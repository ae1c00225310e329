// Forward declarations of the payload body writer and reader (core/common/binary_io.hpp), for
// headers that only name them in serialize/deserialize signatures.
#pragma once

namespace insight {

class BinaryWriter;
class BinaryReader;

}  // namespace insight
