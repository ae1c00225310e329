/* src/core must stay free of PostgreSQL headers: the core is built with this
 * directory first on the include path, so any attempt to include postgres.h
 * (or the other entry headers below) from src/core fails at compile time. */
#error "src/core must not include PostgreSQL headers; put PostgreSQL code in src/pg"
