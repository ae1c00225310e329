// The one place PostgreSQL headers enter the C++ code. Every src/pg file includes its C++ and
// core headers first and this header LAST: PostgreSQL's port.h redefines snprintf, printf and
// friends as macros, c.h defines _() and Max/Min, and none of that may leak into the standard
// library or Eigen/nlohmann headers.
#pragma once

// postgres.h must come first: clang-format must not sort it.
// clang-format off
extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"
#include "parser/parse_type.h"
#include "access/parallel.h"
#include "utils/date.h"
#include "utils/timestamp.h"
}
// clang-format on
