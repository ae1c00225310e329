-------------------------------------------------------------------------------------------
-- Demo data
-------------------------------------------------------------------------------------------
-- The demo generator's rows of one standard table, typed as that table's row: tbl is a row of
-- it, e.g. NULL::insight.products (transactions come with a NULL transaction_id for the
-- identity to fill). Not STRICT: tbl is NULL by design.
CREATE OR REPLACE FUNCTION insight._demo_rows(tbl anyelement, days int, seed bigint, end_time timestamptz,
    step int, remotes int DEFAULT 55)
  RETURNS SETOF anyelement AS 'MODULE_PATHNAME', 'insight_demo_rows'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Fills the standard tables with deterministic demo data: the same (days, seed, end_time,
-- step_seconds) always gives the same rows. end_time defaults to now, rounded down to the
-- sample step. Refuses to touch tables that already hold rows unless replace => true.
-- The body is SECURITY DEFINER (insight._admin_entry): TRUNCATE ... RESTART IDENTITY and
-- ANALYZE need the tables' owner.
CREATE OR REPLACE FUNCTION insight._load_demo_data(days int DEFAULT 30, seed int DEFAULT 42,
    end_time timestamptz DEFAULT NULL, replace bool DEFAULT false, step_seconds int DEFAULT 300,
    sales_days int DEFAULT 120, remotes_per_network int DEFAULT 55)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  tables constant text[] := ARRAY['products', 'transactions', 'networks', 'satellites', 'sites',
      'hub_antennas', 'links', 'network_metrics', 'site_metrics', 'link_metrics', 'incidents',
      'demo_ground_truth'];
  t_end timestamptz;
  nonempty text;
  has_rows bool;
  counts jsonb := '{}';
  n bigint;
  tbl text;
BEGIN
  IF days IS NULL OR days < 1 OR days > 3650 THEN
    RAISE EXCEPTION 'days must be between 1 and 3650, got %', days USING ERRCODE = '22023';
  END IF;
  IF seed IS NULL THEN
    RAISE EXCEPTION 'seed must not be NULL' USING ERRCODE = '22023';
  END IF;
  IF sales_days IS NULL OR sales_days < 1 OR sales_days > 3650 THEN
    RAISE EXCEPTION 'sales_days must be between 1 and 3650, got %', sales_days USING ERRCODE = '22023';
  END IF;
  IF remotes_per_network IS NULL OR remotes_per_network < 1 OR remotes_per_network > 2500 THEN
    RAISE EXCEPTION 'remotes_per_network must be between 1 and 2500, got %', remotes_per_network
      USING ERRCODE = '22023';
  END IF;
  IF step_seconds IS NULL OR step_seconds NOT IN (60, 300) THEN
    RAISE EXCEPTION 'step_seconds must be 60 or 300, got %', step_seconds USING ERRCODE = '22023';
  END IF;
  t_end := coalesce(end_time,
                    to_timestamp(floor(extract(epoch FROM now()) / step_seconds) * step_seconds));

  -- Every table the load truncates is checked: nothing is deleted without replace => true.
  FOREACH tbl IN ARRAY tables LOOP
    EXECUTE format('SELECT EXISTS (SELECT FROM insight.%I)', tbl) INTO has_rows;
    IF has_rows THEN
      nonempty := concat_ws(', ', nonempty, tbl);
    END IF;
  END LOOP;
  IF nonempty IS NOT NULL AND NOT coalesce(replace, false) THEN
    RAISE EXCEPTION 'the standard tables already hold data (%)', nonempty
      USING ERRCODE = '55000',
            HINT = 'Call insight.load_demo_data(..., replace => true) to delete those rows first.';
  END IF;

  TRUNCATE insight.transactions, insight.products, insight.link_metrics, insight.site_metrics,
           insight.network_metrics, insight.links, insight.hub_antennas, insight.sites,
           insight.satellites, insight.networks, insight.incidents, insight.demo_ground_truth
           RESTART IDENTITY;

  INSERT INTO insight.products SELECT * FROM insight._demo_rows(NULL::insight.products, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.transactions (ts, user_id, product_id, quantity, total_amount)
    SELECT ts, user_id, product_id, quantity, total_amount
      FROM insight._demo_rows(NULL::insight.transactions, greatest(days, sales_days), seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.networks SELECT * FROM insight._demo_rows(NULL::insight.networks, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.satellites SELECT * FROM insight._demo_rows(NULL::insight.satellites, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.sites SELECT * FROM insight._demo_rows(NULL::insight.sites, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.hub_antennas SELECT * FROM insight._demo_rows(NULL::insight.hub_antennas, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.links SELECT * FROM insight._demo_rows(NULL::insight.links, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.network_metrics SELECT * FROM insight._demo_rows(NULL::insight.network_metrics, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.site_metrics SELECT * FROM insight._demo_rows(NULL::insight.site_metrics, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.link_metrics SELECT * FROM insight._demo_rows(NULL::insight.link_metrics, days, seed, t_end, step_seconds, remotes_per_network);
  INSERT INTO insight.demo_ground_truth SELECT * FROM insight._demo_rows(NULL::insight.demo_ground_truth, days, seed, t_end, step_seconds, remotes_per_network) g
   WHERE g.kind NOT IN ('sales_drop', 'sales_spike');
  -- The shop's labelled sales anomalies come from the world the transactions were drawn from
  -- (its sales_days are usually longer than the telemetry's days), numbered after the rest.
  INSERT INTO insight.demo_ground_truth
    SELECT (SELECT coalesce(max(fault_id), 0) FROM insight.demo_ground_truth)
             + row_number() OVER (ORDER BY g.started_at),
           g.kind, g.scope, g.scope_id, g.started_at, g.ended_at, g.root_cause, g.metric,
           g.affected_links, g.affected_sites, g.notes
      FROM insight._demo_rows(NULL::insight.demo_ground_truth, greatest(days, sales_days), seed, t_end, step_seconds, remotes_per_network) g
     WHERE g.kind IN ('sales_drop', 'sales_spike');
  INSERT INTO insight.incidents (scope, scope_id, started_at, ended_at, root_cause, notes)
    SELECT scope, scope_id, started_at, ended_at, root_cause, notes
      FROM insight.demo_ground_truth WHERE root_cause IS NOT NULL ORDER BY fault_id;
  TRUNCATE insight.link_metrics_5m;
  DELETE FROM insight.rollup_state WHERE name = 'link_metrics_5m';
  PERFORM insight.refresh_link_rollup();

  FOREACH tbl IN ARRAY tables LOOP
    EXECUTE format('SELECT count(*) FROM insight.%I', tbl) INTO n;
    counts := counts || jsonb_build_object(tbl, n);
  END LOOP;
  ANALYZE insight.transactions, insight.link_metrics, insight.site_metrics, insight.network_metrics;
  RETURN counts;
END
$$;

-- Privileges (API.md section 5).
SELECT insight._admin_entry('insight._load_demo_data(int, int, timestamptz, bool, int, int, int)',
                            'load_demo_data');
GRANT EXECUTE ON FUNCTION insight._demo_rows(anyelement, int, bigint, timestamptz, int, int)
  TO insight_admin;

-- Descriptions.
COMMENT ON FUNCTION insight._demo_rows(anyelement, int, bigint, timestamptz, int, int) IS 'Internal: the demo generator''s rows of the standard table whose row type the first argument has.';
COMMENT ON FUNCTION insight._load_demo_data(int, int, timestamptz, bool, int, int, int) IS 'Internal: the body of load_demo_data, run as the tables'' owner.';
COMMENT ON FUNCTION insight.load_demo_data(int, int, timestamptz, bool, int, int, int) IS 'Fills the standard tables with deterministic demo data: a shop''s sales and a satellite network''s telemetry with injected faults. Admin.';
