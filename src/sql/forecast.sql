-------------------------------------------------------------------------------------------
-- Forecasting (src/core/forecast, src/pg/forecast.cpp)
-------------------------------------------------------------------------------------------
-- Reads source with the caller's privileges (sums of value_column per period of time_column —
-- an hour, a day, a week, a month, or 'auto': the grid the times lie on — in the session's
-- TimeZone; periods without rows count as 0), writes the catalog as its owner. With
-- group_column, one series per group, all in one model version. regressors: numeric or
-- boolean columns known ahead (their mean per period); holidays: a relation of (day, name)
-- rows; both estimated as additive effects (src/core/forecast/covariates.hpp).
CREATE OR REPLACE FUNCTION insight.train_forecaster(name text, source regclass, time_column text,
    value_column text, group_column text DEFAULT NULL, algorithm text DEFAULT 'auto',
    horizon int DEFAULT 14, deploy bool DEFAULT true, frequency text DEFAULT 'auto',
    regressors text[] DEFAULT NULL, holidays text DEFAULT NULL)
RETURNS insight.training_result LANGUAGE sql VOLATILE
BEGIN ATOMIC
  SELECT insight._require_admin('train_forecaster');
  SELECT insight._train('forecast', name, source,
    jsonb_build_object('time_column', time_column, 'value_column', value_column,
                       'group_column', group_column, 'algorithm', algorithm, 'horizon', horizon,
                       'frequency', frequency, 'regressors', regressors, 'holidays', holidays),
    deploy);
END;

-- Forecasts of the live model from the period after its training data; group_key NULL = every
-- group. STABLE: reads the catalog (and regressors_source, with the caller's privileges: the
-- future values of a model's regressors, by the training source's time and group columns);
-- forecast_time is the start of each period (midnight, for days) in the session's TimeZone.
-- reconcile: a grouped model's group forecasts reconciled with its total's, so they add up to
-- it (bottom-up or WLS, as measured at training: src/core/forecast/reconcile.hpp).
CREATE OR REPLACE FUNCTION insight.forecast(name text, horizon int DEFAULT 14, group_key text DEFAULT NULL,
    confidence float8 DEFAULT 0.9, regressors_source regclass DEFAULT NULL, reconcile bool DEFAULT false)
  RETURNS TABLE(group_key text, forecast_time timestamptz, forecast_value float8,
                lower_bound float8, upper_bound float8)
  AS 'MODULE_PATHNAME', 'insight_forecast' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 14;

-- The live model's forecasts taken apart (API.md section 6): per period, components that sum
-- to forecast()'s forecast_value (level, trend, seasonality; for the feature-based learners the
-- model at a reference point and the Shapley values of its calendar, lag and rolling features;
-- each regressor, holiday, the output rules' adjustment). STABLE: reads the catalog.
CREATE OR REPLACE FUNCTION insight.explain_forecast(name text, horizon int DEFAULT 14, group_key text DEFAULT NULL,
    regressors_source regclass DEFAULT NULL)
  RETURNS TABLE(group_key text, forecast_time timestamptz, component text, value float8)
  AS 'MODULE_PATHNAME', 'insight_explain_forecast' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 56;

-- Rolling-origin evaluation without training a model: for each of `folds` origins, the whole
-- procedure ('auto' included) runs on the data before it and is scored on the next horizon
-- periods.
CREATE OR REPLACE FUNCTION insight.evaluate_forecaster(source regclass, time_column text, value_column text,
    group_column text DEFAULT NULL, algorithm text DEFAULT 'auto', horizon int DEFAULT 14,
    folds int DEFAULT 3, confidence float8 DEFAULT 0.9, frequency text DEFAULT 'auto',
    regressors text[] DEFAULT NULL, holidays text DEFAULT NULL)
RETURNS TABLE(algorithm text, metric text, value float8)
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
  SELECT * FROM insight._evaluate('forecast', source,
    jsonb_build_object('time_column', time_column, 'value_column', value_column,
                       'group_column', group_column, 'algorithm', algorithm, 'horizon', horizon,
                       'folds', folds, 'confidence', confidence, 'frequency', frequency,
                       'regressors', regressors, 'holidays', holidays))
$$;

-- Daily revenue (insight.transactions.total_amount) of the whole shop, or of one product, from
-- the models train_default_models() trains ('daily_sales', 'daily_sales_by_product').
CREATE OR REPLACE FUNCTION insight.forecast_daily_sales(horizon int DEFAULT 14, product_id text DEFAULT NULL,
    confidence float8 DEFAULT 0.9)
  RETURNS TABLE(day date, forecast_value float8, lower_bound float8, upper_bound float8)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  model constant text := CASE WHEN product_id IS NULL THEN 'daily_sales'
                              ELSE 'daily_sales_by_product' END;
BEGIN
  IF NOT EXISTS (SELECT FROM insight.deployments d WHERE d.name = model) THEN
    RAISE EXCEPTION 'model "%" does not exist', model
      USING ERRCODE = '42704',
            DETAIL = 'forecast_daily_sales forecasts with the live version of model ' || model || '.',
            HINT = 'Train the domain models from the standard tables with SELECT insight.train_default_models().';
  END IF;
  IF product_id IS NOT NULL
     AND NOT EXISTS (SELECT FROM insight.products p WHERE p.product_id = forecast_daily_sales.product_id) THEN
    RAISE EXCEPTION 'product "%" does not exist', product_id
      USING ERRCODE = '42704', DETAIL = 'insight.products has no such product_id.',
            HINT = 'Known ids are in insight.products.';
  END IF;
  RETURN QUERY
    SELECT f.forecast_time::date, greatest(f.forecast_value, 0), greatest(f.lower_bound, 0),
           greatest(f.upper_bound, 0)
      FROM insight.forecast(model, horizon, product_id, confidence) f
     ORDER BY 1;
END
$$;

-- Seasonal anomaly detection (API.md section 6): each group's sums per period (as the
-- forecasters read them, at the frequency asked or inferred: complete periods, gaps filled),
-- their last `since` judged against what the periods before them predict: the forecasting
-- procedure (the learner `algorithm` names, 'theta' by default, or 'auto') trained on the
-- periods before each block (a week of days, a day of hours), its interval at `confidence` widened where needed to a normal band of its backtest
-- errors (src/core/forecast/series_anomaly.hpp). Reads source with the caller's privileges;
-- writes nothing.
CREATE OR REPLACE FUNCTION insight._detect_series(source regclass, time_column text, value_column text,
    group_column text, since interval, frequency text, confidence float8, only_group text,
    algorithm text)
  RETURNS TABLE(group_key text, ts timestamptz, value float8, expected float8, lower_bound float8,
                upper_bound float8, anomaly_score float8, is_anomaly boolean)
  AS 'MODULE_PATHNAME', 'insight_detect_series' LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE OR REPLACE FUNCTION insight.detect_series_anomalies(source regclass, time_column text,
    value_column text, group_column text DEFAULT NULL, since interval DEFAULT '7 days',
    frequency text DEFAULT 'auto', confidence float8 DEFAULT 0.99, algorithm text DEFAULT 'theta')
  RETURNS TABLE(group_key text, ts timestamptz, value float8, expected float8, lower_bound float8,
                upper_bound float8, anomaly_score float8, is_anomaly boolean)
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
  SELECT * FROM insight._detect_series(source, time_column, value_column, group_column, since,
                                       frequency, confidence, NULL, algorithm)
$$;

-- The shop's daily revenue (or one product's), its last `days` days judged as above, with each
-- day's transactions and distinct buyers: the daily-sales check of a monitoring service.
CREATE OR REPLACE FUNCTION insight.detect_sales_anomaly(days int DEFAULT 90, product_id text DEFAULT NULL,
    confidence float8 DEFAULT 0.99)
  RETURNS TABLE(day date, revenue numeric, expected float8, lower_bound float8, upper_bound float8,
                anomaly_score float8, is_anomaly boolean, transaction_count bigint, unique_users bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF days IS NULL OR days < 1 OR days > 366 THEN
    RAISE EXCEPTION 'days must be between 1 and 366, got %', days USING ERRCODE = '22023';
  END IF;
  IF product_id IS NOT NULL
     AND NOT EXISTS (SELECT FROM insight.products p WHERE p.product_id = detect_sales_anomaly.product_id) THEN
    RAISE EXCEPTION 'product % does not exist', insight._echo(product_id)
      USING ERRCODE = '42704', DETAIL = 'insight.products has no such product_id.',
            HINT = 'Known ids are in insight.products.';
  END IF;
  RETURN QUERY
    SELECT j.ts::date, coalesce(t.revenue, 0), j.expected, j.lower_bound, j.upper_bound,
           j.anomaly_score, j.is_anomaly, coalesce(t.n, 0), coalesce(t.users, 0)
      FROM insight._detect_series('insight.transactions', 'ts', 'total_amount',
             CASE WHEN product_id IS NOT NULL THEN 'product_id' END, make_interval(days => days),
             'day', confidence, product_id, 'auto') j
      LEFT JOIN (SELECT x.ts::date AS d, sum(x.total_amount) AS revenue, count(*) AS n,
                        count(DISTINCT x.user_id) AS users
                   FROM insight.transactions x
                  WHERE detect_sales_anomaly.product_id IS NULL OR x.product_id = detect_sales_anomaly.product_id
                  GROUP BY 1) t ON t.d = j.ts::date
     ORDER BY 1;
END
$$;

-- Privileges (API.md section 5).
GRANT EXECUTE ON FUNCTION
    insight.forecast(text, int, text, float8, regclass, bool),
    insight.explain_forecast(text, int, text, regclass),
    insight.evaluate_forecaster(regclass, text, text, text, text, int, int, float8, text, text[], text),
    insight.forecast_daily_sales(int, text, float8),
    insight._detect_series(regclass, text, text, text, interval, text, float8, text, text),
    insight.detect_series_anomalies(regclass, text, text, text, interval, text, float8, text),
    insight.detect_sales_anomaly(int, text, float8)
  TO insight_analyst, insight_admin;
-- The admin functions check their caller themselves (insight._require_admin).
GRANT EXECUTE ON FUNCTION insight.train_forecaster(text, regclass, text, text, text, text, int, bool, text, text[], text)
  TO insight_analyst, insight_admin;

-- Descriptions.
COMMENT ON FUNCTION insight.train_forecaster(text, regclass, text, text, text, text, int, bool, text, text[], text) IS 'Trains forecasters (one per group) on the complete hours, days, weeks or months of a (time, value[, group]) relation and stores them as a new model version. Admin.';
COMMENT ON FUNCTION insight.forecast(text, int, text, float8, regclass, bool) IS 'Forecasts of the live version of a model, one row per period, with lower and upper bounds at confidence; regressors_source gives the future values of its regressors; reconcile makes group forecasts add up to the total''s.';
COMMENT ON FUNCTION insight.explain_forecast(text, int, text, regclass) IS 'The live forecaster''s forecasts taken apart: per period, components (level, trend, seasonality, feature groups, each regressor, holiday, adjustment) that sum to the forecast.';
COMMENT ON FUNCTION insight.evaluate_forecaster(regclass, text, text, text, text, int, int, float8, text, text[], text) IS 'Rolling-origin backtest of the forecasting procedure on a relation, without writing a model: mae, rmse, smape, mase, coverage.';
COMMENT ON FUNCTION insight.forecast_daily_sales(int, text, float8) IS 'Daily revenue forecasts of the whole shop, or of one product, from insight.transactions.';
COMMENT ON FUNCTION insight._detect_series(regclass, text, text, text, interval, text, float8, text, text) IS 'Internal: detect_series_anomalies, optionally for one group only (detect_sales_anomaly).';
COMMENT ON FUNCTION insight.detect_series_anomalies(regclass, text, text, text, interval, text, float8, text) IS 'Each series'' last periods (hours, days, weeks or months) judged against what the periods before them predict: expected value, bounds at confidence, anomaly score, anomaly flag.';
COMMENT ON FUNCTION insight.detect_sales_anomaly(int, text, float8) IS 'The shop''s (or one product''s) daily revenue of the last days judged against what the days before predict, with transactions and distinct buyers.';
