-------------------------------------------------------------------------------------------
-- Recommendations (src/core/recommend, src/pg/recommend.cpp)
-------------------------------------------------------------------------------------------
-- Reads source with the caller's privileges: per (user, item) pair the sum of weight_column,
-- or the number of rows without one; writes the catalog as its owner.
-- validate => true: the learner is also trained on four fifths of each user's items and
-- ranks the held-out fifth; models.metrics gets validation_ndcg_at_10 (and recall, the
-- popularity baseline's ndcg, the users scored). Training takes about twice as long.
CREATE OR REPLACE FUNCTION insight.train_recommender(name text, source regclass, user_column text,
    item_column text, weight_column text DEFAULT NULL, algorithm text DEFAULT 'als',
    factors int DEFAULT 64, deploy bool DEFAULT true, iterations int DEFAULT 15,
    regularization float8 DEFAULT 0.3, alpha float8 DEFAULT 1, neighbors int DEFAULT NULL,
    min_user_interactions int DEFAULT 1, min_item_interactions int DEFAULT 1, seed int DEFAULT 42,
    validate bool DEFAULT false)
RETURNS insight.training_result LANGUAGE sql VOLATILE
BEGIN ATOMIC
  SELECT insight._require_admin('train_recommender');
  SELECT insight._train('recommend', name, source,
    jsonb_build_object('user_column', user_column, 'item_column', item_column,
                       'weight_column', weight_column, 'algorithm', algorithm, 'factors', factors,
                       'iterations', iterations, 'regularization', regularization, 'alpha', alpha,
                       'neighbors', neighbors, 'min_user_interactions', min_user_interactions,
                       'min_item_interactions', min_item_interactions, 'seed', seed,
                       'validate', validate),
    deploy);
END;

-- Top k items of the live model for a user, best first; users the model does not know (and
-- NULL) get the most popular items (reason 'popularity'). STABLE: reads the catalog.
CREATE OR REPLACE FUNCTION insight.recommend(name text, user_id text, k int DEFAULT 10,
    exclude_seen bool DEFAULT true)
  RETURNS TABLE(item_id text, score float8, reason text)
  AS 'MODULE_PATHNAME', 'insight_recommend' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 10;

-- The k items most like item_id; an unknown item gives no rows and a NOTICE.
CREATE OR REPLACE FUNCTION insight.similar_items(name text, item_id text, k int DEFAULT 10)
  RETURNS TABLE(item_id text, score float8)
  AS 'MODULE_PATHNAME', 'insight_similar_items' LANGUAGE C STABLE PARALLEL RESTRICTED ROWS 10;

-- Time-based offline evaluation of an algorithm beside popularity, without writing a model.
CREATE OR REPLACE FUNCTION insight.evaluate_recommender(source regclass, user_column text, item_column text,
    time_column text, algorithm text DEFAULT 'als', k int DEFAULT 10,
    test_fraction float8 DEFAULT 0.2, weight_column text DEFAULT NULL, factors int DEFAULT 64,
    cutoff timestamptz DEFAULT NULL, iterations int DEFAULT 15, regularization float8 DEFAULT 0.3,
    alpha float8 DEFAULT 1, neighbors int DEFAULT NULL)
RETURNS TABLE(algorithm text, metric text, value float8)
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
  SELECT * FROM insight._evaluate('recommend', source,
    jsonb_build_object('user_column', user_column, 'item_column', item_column,
                       'time_column', time_column, 'weight_column', weight_column,
                       'algorithm', algorithm, 'k', k, 'test_fraction', test_fraction,
                       'cutoff', cutoff, 'factors', factors, 'iterations', iterations,
                       'regularization', regularization, 'alpha', alpha,
                       'neighbors', neighbors))
$$;

-- Domain functions over insight.transactions / insight.products and the model
-- 'product_recommender' that train_default_models() trains.
CREATE OR REPLACE FUNCTION insight._require_domain_model(model text, caller text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM insight.deployments d WHERE d.name = model) THEN
    RAISE EXCEPTION 'model "%" does not exist', model
      USING ERRCODE = '42704',
            DETAIL = caller || ' uses the live version of model ' || model || '.',
            HINT = 'Train the domain models from the standard tables with SELECT insight.train_default_models().';
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION insight.recommend_products(user_id text, k int DEFAULT 10)
  RETURNS TABLE(product_id text, name text, score float8, reason text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM insight._require_domain_model('product_recommender', 'recommend_products');
  RETURN QUERY
    SELECT r.item_id, p.name, r.score, r.reason
      FROM insight.recommend('product_recommender', recommend_products.user_id, k)
             WITH ORDINALITY AS r(item_id, score, reason, rank)
      LEFT JOIN insight.products p ON p.product_id = r.item_id
     ORDER BY r.rank;
END
$$;

-- (A composite result type: a RETURNS TABLE column may not share the product_id argument's name.)
CREATE OR REPLACE FUNCTION insight.similar_products(product_id text, k int DEFAULT 10)
  RETURNS SETOF insight.similar_product
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM insight._require_domain_model('product_recommender', 'similar_products');
  -- A product that does not exist is a mistake, not a product without similar ones.
  IF similar_products.product_id IS NULL THEN
    RAISE EXCEPTION 'product_id must not be NULL' USING ERRCODE = '22023';
  END IF;
  IF NOT EXISTS (SELECT FROM insight.products p WHERE p.product_id = similar_products.product_id) THEN
    RAISE EXCEPTION 'product "%" does not exist', similar_products.product_id
      USING ERRCODE = '42704', DETAIL = 'insight.products has no such product_id.',
            HINT = 'Known ids are in insight.products.';
  END IF;
  RETURN QUERY
    SELECT s.item_id, p.name, s.score
      FROM insight.similar_items('product_recommender', similar_products.product_id, k)
             WITH ORDINALITY AS s(item_id, score, rank)
      LEFT JOIN insight.products p ON p.product_id = s.item_id
     ORDER BY s.rank;
END
$$;

-- The best sellers of the last `days` days up to `until` (default now()), by the popularity
-- score 0.4·transactions + 0.4·unique users + 0.2·100·(revenue / the top product's revenue).
CREATE OR REPLACE FUNCTION insight.popular_products(days int DEFAULT 30, k int DEFAULT 10,
    until timestamptz DEFAULT NULL)
  RETURNS TABLE(product_id text, name text, popularity_score float8, total_amount numeric,
                transaction_count bigint, unique_users bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  stop constant timestamptz := coalesce(until, now());
BEGIN
  IF days IS NULL OR days < 1 OR days > 36500 THEN
    RAISE EXCEPTION 'days must be between 1 and 36500' USING ERRCODE = '22023',
      DETAIL = format('days = %s', coalesce(days::text, 'NULL'));
  END IF;
  IF k IS NULL OR k < 1 OR k > 1000 THEN
    RAISE EXCEPTION 'k must be between 1 and 1000' USING ERRCODE = '22023',
      DETAIL = format('k = %s', coalesce(k::text, 'NULL'));
  END IF;
  RETURN QUERY
    WITH w AS (
      SELECT t.product_id AS pid, count(*) AS n, count(DISTINCT t.user_id) AS u,
             sum(t.total_amount) AS amount
        FROM insight.transactions t
       WHERE t.ts > stop - make_interval(days => popular_products.days) AND t.ts <= stop
       GROUP BY t.product_id),
    scored AS (
      SELECT w.*, (0.4 * w.n + 0.4 * w.u
                   + 0.2 * 100 * CASE WHEN max(w.amount) OVER () > 0
                                      THEN greatest(w.amount, 0) / max(w.amount) OVER ()
                                      ELSE 0 END)::float8 AS score
        FROM w)
    SELECT s.pid, p.name, s.score, s.amount, s.n, s.u
      FROM scored s LEFT JOIN insight.products p ON p.product_id = s.pid
     ORDER BY s.score DESC, s.pid
     LIMIT k;
END
$$;

-- Privileges (API.md section 5).
GRANT EXECUTE ON FUNCTION
    insight.recommend(text, text, int, bool), insight.similar_items(text, text, int),
    insight.evaluate_recommender(regclass, text, text, text, text, int, float8, text, int, timestamptz,
                                 int, float8, float8, int),
    insight._require_domain_model(text, text), insight.recommend_products(text, int),
    insight.similar_products(text, int), insight.popular_products(int, int, timestamptz)
  TO insight_analyst, insight_admin;
-- The admin functions check their caller themselves (insight._require_admin).
GRANT EXECUTE ON FUNCTION
    insight.train_recommender(text, regclass, text, text, text, text, int, bool, int, float8,
                              float8, int, int, int, int, bool)
  TO insight_analyst, insight_admin;

-- Descriptions.
COMMENT ON FUNCTION insight.train_recommender(text, regclass, text, text, text, text, int, bool, int, float8, float8, int, int, int, int, bool) IS 'Trains a recommender (ALS, item or user k-NN, SVD, popularity) on (user, item[, weight]) rows and stores it as a new model version. Admin.';
COMMENT ON FUNCTION insight.recommend(text, text, int, bool) IS 'The top k items of the live recommender for a user, best first; unknown users get the most popular items.';
COMMENT ON FUNCTION insight.similar_items(text, text, int) IS 'The k items most like an item under the live recommender.';
COMMENT ON FUNCTION insight.evaluate_recommender(regclass, text, text, text, text, int, float8, text, int, timestamptz, int, float8, float8, int) IS 'Time-split offline evaluation of a recommender beside popularity, without writing a model: precision, recall, ndcg, map at k, coverage.';
COMMENT ON FUNCTION insight._require_domain_model(text, text) IS 'Internal: 42704 with a HINT unless a domain function''s model is deployed.';
COMMENT ON FUNCTION insight.recommend_products(text, int) IS 'Products to recommend to a user of insight.transactions, with their names (model product_recommender).';
COMMENT ON FUNCTION insight.similar_products(text, int) IS 'Products most like a product of insight.products, with their names (model product_recommender).';
COMMENT ON FUNCTION insight.popular_products(int, int, timestamptz) IS 'The best sellers of insight.transactions over the last days up to until, by a popularity score.';
