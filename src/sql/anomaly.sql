-------------------------------------------------------------------------------------------
-- Anomaly detection: Isolation Forest (src/core/anomaly, src/pg/anomaly.cpp)
-------------------------------------------------------------------------------------------
-- Aggregate support functions. The state is a bounded reservoir sample (internal); partial
-- states of parallel workers are serialized, and merging them is exact in distribution.
CREATE OR REPLACE FUNCTION insight._if_transfn(internal, float8[], int, int) RETURNS internal
  AS 'MODULE_PATHNAME', 'insight_if_transfn' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE FUNCTION insight._if_transfn(internal, float8[], int, int, int) RETURNS internal
  AS 'MODULE_PATHNAME', 'insight_if_transfn' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE FUNCTION insight._if_transfn(internal, float8[], int, int, int, float8, bool) RETURNS internal
  AS 'MODULE_PATHNAME', 'insight_if_transfn' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE FUNCTION insight._if_combinefn(internal, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'insight_if_combinefn' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE FUNCTION insight._if_serialfn(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'insight_if_serialfn' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION insight._if_deserialfn(bytea, internal) RETURNS internal
  AS 'MODULE_PATHNAME', 'insight_if_deserialfn' LANGUAGE C STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION insight._if_finalfn(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'insight_if_finalfn' LANGUAGE C PARALLEL SAFE;
CREATE OR REPLACE FUNCTION insight._if_train_finalfn(internal) RETURNS bytea
  AS 'MODULE_PATHNAME', 'insight_if_train_finalfn' LANGUAGE C PARALLEL SAFE;

-- One model per group with GROUP BY; parallel workers share the scan (Partial Aggregate).
-- Returns the model payload (NULL for no rows); score it with insight.anomaly_score(model, ...).
CREATE OR REPLACE AGGREGATE insight.isolation_forest_fit(features float8[], n_trees int, sample_size int) (
  SFUNC = insight._if_transfn, STYPE = internal, FINALFUNC = insight._if_finalfn,
  COMBINEFUNC = insight._if_combinefn, SERIALFUNC = insight._if_serialfn,
  DESERIALFUNC = insight._if_deserialfn, PARALLEL = SAFE);
CREATE OR REPLACE AGGREGATE insight.isolation_forest_fit(features float8[], n_trees int, sample_size int, seed int) (
  SFUNC = insight._if_transfn, STYPE = internal, FINALFUNC = insight._if_finalfn,
  COMBINEFUNC = insight._if_combinefn, SERIALFUNC = insight._if_serialfn,
  DESERIALFUNC = insight._if_deserialfn, PARALLEL = SAFE);
-- What train_anomaly_detector runs over the caller's relation.
CREATE OR REPLACE AGGREGATE insight._isolation_forest_train(float8[], int, int, int, float8, bool) (
  SFUNC = insight._if_transfn, STYPE = internal, FINALFUNC = insight._if_train_finalfn,
  COMBINEFUNC = insight._if_combinefn, SERIALFUNC = insight._if_serialfn,
  DESERIALFUNC = insight._if_deserialfn, PARALLEL = SAFE);

-- COST, in cpu_operator_cost units: a score (every tree walked) takes about 0.5 µs, as long as
-- reading 5-7 rows in a scan, whose cost is about 0.02 a row: about 50 units (the row forms bind
-- columns by name, a fifth more). Higher, a million rows would pass jit_above_cost, and JIT
-- compiles for ~50 ms in every process without speeding up an opaque C call (docs/benchmarks.md).
CREATE OR REPLACE FUNCTION insight.anomaly_score(model bytea, features float8[]) RETURNS float8
  AS 'MODULE_PATHNAME', 'insight_anomaly_score_bytes' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 50;
CREATE OR REPLACE FUNCTION insight.anomaly_score(name text, features float8[]) RETURNS float8
  AS 'MODULE_PATHNAME', 'insight_anomaly_score_named' LANGUAGE C STABLE STRICT PARALLEL SAFE COST 50;
CREATE OR REPLACE FUNCTION insight.anomaly_score(name text, r anyelement) RETURNS float8
  AS 'MODULE_PATHNAME', 'insight_anomaly_score_row' LANGUAGE C STABLE STRICT PARALLEL SAFE COST 60;
CREATE OR REPLACE FUNCTION insight.is_anomaly(name text, r anyelement) RETURNS boolean
  AS 'MODULE_PATHNAME', 'insight_is_anomaly_row' LANGUAGE C STABLE STRICT PARALLEL SAFE COST 60;
CREATE OR REPLACE FUNCTION insight.is_anomaly(name text, features float8[]) RETURNS boolean
  AS 'MODULE_PATHNAME', 'insight_is_anomaly_named' LANGUAGE C STABLE STRICT PARALLEL SAFE COST 50;

-- Literal arrays (ARRAY[1.5, 2] is numeric[], ARRAY[1, 2] int[]), integer columns and untyped
-- array literals ('{1.5, 2}') matched float8[] and the anyelement row form equally well:
-- "function is not unique". These take them as they are (an untyped literal resolves to the
-- text form, PostgreSQL's choice for unknown-type arguments, and is read as float8[]).
-- anomaly_score(name, numeric[] | int[] | bigint[] | text) and is_anomaly(...) likewise:
DO $overloads$
DECLARE
  f record;
  t text;
BEGIN
  FOR f IN VALUES ('anomaly_score', 'float8'), ('is_anomaly', 'boolean') LOOP
    FOREACH t IN ARRAY ARRAY['numeric[]', 'int[]', 'bigint[]', 'text'] LOOP
      EXECUTE format('CREATE OR REPLACE FUNCTION insight.%1$I(name text, features %2$s)
  RETURNS %3$s LANGUAGE sql STABLE STRICT PARALLEL SAFE
  RETURN insight.%1$I(name, features::float8[])', f.column1, t, f.column2);
      EXECUTE format('COMMENT ON FUNCTION insight.%1$I(text, %2$s) IS %3$L', f.column1, t,
                     f.column1 || '(name, features float8[]) for features given as ' || t
                     || CASE t WHEN 'text' THEN ' (an untyped array literal such as ''{1.5, 2}'')' ELSE '' END
                     || '.');
    END LOOP;
  END LOOP;
END
$overloads$;

-- Reads source with the caller's privileges, writes the catalog as its owner.
CREATE OR REPLACE FUNCTION insight.train_anomaly_detector(name text, source regclass, features text[],
    contamination float8 DEFAULT 0.05, n_trees int DEFAULT 100, sample_size int DEFAULT 256,
    deploy bool DEFAULT true, seed int DEFAULT 42, standardize bool DEFAULT true)
RETURNS insight.training_result LANGUAGE sql VOLATILE
BEGIN ATOMIC
  SELECT insight._require_admin('train_anomaly_detector');
  SELECT insight._train('anomaly', name, source,
    jsonb_build_object('features', features, 'contamination', contamination, 'n_trees', n_trees,
                       'sample_size', sample_size, 'seed', seed, 'standardize', standardize),
    deploy);
END;

CREATE OR REPLACE FUNCTION insight.evaluate_anomaly_detector(name text, source regclass, label_column text)
  RETURNS TABLE(metric text, value float8)
  AS 'MODULE_PATHNAME', 'insight_evaluate_anomaly_detector' LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE OR REPLACE FUNCTION insight.top_features(name text, r anyelement, k int DEFAULT 3) RETURNS text[]
  AS 'MODULE_PATHNAME', 'insight_top_features' LANGUAGE C STABLE STRICT PARALLEL SAFE COST 200;

-- Privileges (API.md section 5).
GRANT EXECUTE ON FUNCTION
    insight.isolation_forest_fit(float8[], int, int),
    insight.isolation_forest_fit(float8[], int, int, int),
    insight.anomaly_score(bytea, float8[]), insight.anomaly_score(text, float8[]),
    insight.anomaly_score(text, anyelement), insight.is_anomaly(text, anyelement),
    insight.is_anomaly(text, float8[]), insight.evaluate_anomaly_detector(text, regclass, text),
    insight.top_features(text, anyelement, int),
    insight.anomaly_score(text, numeric[]), insight.anomaly_score(text, int[]),
    insight.anomaly_score(text, bigint[]), insight.is_anomaly(text, numeric[]),
    insight.is_anomaly(text, int[]), insight.is_anomaly(text, bigint[]),
    insight.anomaly_score(text, text), insight.is_anomaly(text, text)
  TO insight_analyst, insight_admin;
-- The admin functions check their caller themselves (insight._require_admin).
GRANT EXECUTE ON FUNCTION
    insight.train_anomaly_detector(text, regclass, text[], float8, int, int, bool, int, bool)
  TO insight_analyst, insight_admin;
GRANT EXECUTE ON FUNCTION insight._isolation_forest_train(float8[], int, int, int, float8, bool)
  TO insight_admin;

-- Descriptions.
COMMENT ON FUNCTION insight._if_transfn(internal, float8[], int, int) IS 'Internal: isolation_forest_fit''s transition function (a bounded reservoir sample of the rows).';
COMMENT ON FUNCTION insight._if_transfn(internal, float8[], int, int, int) IS 'Internal: isolation_forest_fit''s transition function, with a seed.';
COMMENT ON FUNCTION insight._if_transfn(internal, float8[], int, int, int, float8, bool) IS 'Internal: _isolation_forest_train''s transition function (seed, contamination, standardize).';
COMMENT ON FUNCTION insight._if_combinefn(internal, internal) IS 'Internal: merges two reservoir samples of parallel workers (exact in distribution).';
COMMENT ON FUNCTION insight._if_serialfn(internal) IS 'Internal: serializes a reservoir sample for a parallel worker''s result.';
COMMENT ON FUNCTION insight._if_deserialfn(bytea, internal) IS 'Internal: reads a parallel worker''s serialized reservoir sample.';
COMMENT ON FUNCTION insight._if_finalfn(internal) IS 'Internal: grows the forest on the sample and returns its payload (isolation_forest_fit).';
COMMENT ON FUNCTION insight._if_train_finalfn(internal) IS 'Internal: grows the forest and its threshold and returns the payload (train_anomaly_detector).';
COMMENT ON AGGREGATE insight.isolation_forest_fit(float8[], int, int) IS 'Fits an Isolation Forest (n_trees, sample_size) to the feature arrays of a group of rows; returns the model payload. Parallel.';
COMMENT ON AGGREGATE insight.isolation_forest_fit(float8[], int, int, int) IS 'Fits an Isolation Forest (n_trees, sample_size, seed) to the feature arrays of a group of rows; returns the model payload. Parallel.';
COMMENT ON AGGREGATE insight._isolation_forest_train(float8[], int, int, int, float8, bool) IS 'Internal: what train_anomaly_detector runs over the caller''s relation.';
COMMENT ON FUNCTION insight.anomaly_score(bytea, float8[]) IS 'Anomaly score in [0, 1] of a feature array under a model payload (from isolation_forest_fit); higher is more anomalous.';
COMMENT ON FUNCTION insight.anomaly_score(text, float8[]) IS 'Anomaly score in [0, 1] of a feature array (in the model''s order) under the live version of a named model.';
COMMENT ON FUNCTION insight.anomaly_score(text, anyelement) IS 'Anomaly score in [0, 1] of a row under the live version of a named model; features bound by column name.';
COMMENT ON FUNCTION insight.is_anomaly(text, anyelement) IS 'Whether a row scores above the live model''s threshold; features bound by column name.';
COMMENT ON FUNCTION insight.is_anomaly(text, float8[]) IS 'Whether a feature array scores above the live model''s threshold.';
COMMENT ON FUNCTION insight.train_anomaly_detector(text, regclass, text[], float8, int, int, bool, int, bool) IS 'Trains an Isolation Forest on feature columns of a relation and stores it as a new model version. Admin.';
COMMENT ON FUNCTION insight.evaluate_anomaly_detector(text, regclass, text) IS 'Scores a relation with a model against a label column: ROC AUC, precision, recall, F1 and more.';
COMMENT ON FUNCTION insight.top_features(text, anyelement, int) IS 'The k features that contribute most to a row''s anomaly score, most first.';
