// Module entry: _PG_init only initialises each subsystem.
#include "pg/model_store.hpp"
#include "pg/source.hpp"
#include "pg/usage.hpp"

#include "pg/values.hpp"

#ifndef PG_INSIGHT_VERSION
#error "PG_INSIGHT_VERSION must be defined by the build"
#endif

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

void _PG_init(void) {
  insight::pg::init_model_store();
  insight::pg::init_training();
  insight::pg::init_rootcause();
  insight::pg::init_usage();
  MarkGUCPrefixReserved("insight");
}

// insight.version() RETURNS text
INSIGHT_FUNCTION(insight_version) { return insight::pg::text_datum(PG_INSIGHT_VERSION); }
