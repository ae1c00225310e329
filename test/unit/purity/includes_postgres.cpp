// Compiled by the ctest `core_rejects_postgres_headers`, which expects this to FAIL to compile:
// with the core's include path, postgres.h resolves to src/core/poison/postgres.h (#error).
#include "postgres.h"
int main() { return 0; }
