-------------------------------------------------------------------------------------------
-- Composite types the functions return
-------------------------------------------------------------------------------------------
-- What every train_* function, retrain, register_model and import_model returns.
CREATE TYPE insight.training_result AS (
  name         text,
  version      int,
  model_id     bigint,
  task         text,
  algorithm    text,
  rows_used    bigint,
  rows_skipped bigint,
  training_ms  float8,
  metrics      jsonb
);

-- A row of similar_products (recommend.sql).
CREATE TYPE insight.similar_product AS (product_id text, name text, score float8);

-- A finding of the root-cause detectors: the columns of API.md section 4 that every
-- correlate_* function returns.
CREATE TYPE insight.correlation_finding AS (pattern_type text, severity float8,
    confidence float8, root_cause text, affected text[], recommendations text[], evidence jsonb);


-- Descriptions (replayed by every update script, as tables.sql's).
COMMENT ON TYPE insight.training_result IS 'What every train_* function and retrain return: name, version, model_id, task, algorithm, rows used and skipped, training time, metrics.';
COMMENT ON TYPE insight.similar_product IS 'A row of similar_products: product_id, name, score.';
COMMENT ON TYPE insight.correlation_finding IS 'A root-cause finding (API.md section 4): pattern_type, severity, confidence, root_cause, affected, recommendations, evidence.';
