// The only way the core includes dlib. dlib reports failed checks by throwing dlib::fatal_error,
// but unless DLIB_NO_ABORT_ON_2ND_FATAL_ERROR is defined the *second* fatal_error in a process
// calls abort() — a backend that hit two bad matrices would take the server down. The build
// defines it for every translation unit (CMakeLists.txt and Makefile); this header refuses to
// compile without it. dlib::fatal_error derives from dlib::error → std::exception, so the
// boundary maps it to XX000 like any other internal failure; call sites that can name a better
// SQLSTATE catch it and rethrow an insight::Error.
#pragma once

#ifndef DLIB_NO_ABORT_ON_2ND_FATAL_ERROR
#error "build with -DDLIB_NO_ABORT_ON_2ND_FATAL_ERROR (see src/core/common/dlib.hpp)"
#endif

#include <dlib/error.h>
#include <dlib/matrix.h>
