-- Recommendations: train_recommender with every algorithm, recommend (known users, the cold
-- start, exclude_seen, batch over all users with one name lookup), similar_items,
-- evaluate_recommender, the domain functions, privileges, cancel, and every bad input of the
-- issue with its SQLSTATE. Scores are checked as properties, not exact values.
\set SHOW_CONTEXT never
\i sql/include/expect_errors.psql
SET TimeZone = 'UTC';
-- Two communities: users u01..u20 buy items i01..i15, users u21..u40 items i16..i30, each pair
-- with a fixed pseudo-random chance (hashes, not random(): the same data on every run), on a
-- pseudo-random day; popular items bought twice.
CREATE TABLE purchases AS
SELECT 'u' || lpad(u::text, 2, '0') AS customer, 'i' || lpad(i::text, 2, '0') AS item,
       timestamptz '2026-01-01 10:00+00' + (abs(hashtext(u || '/' || i || '/' || d)) % 60) * interval '1 day' AS bought_at,
       1 + abs(hashtext(i || '|' || u)) % 3 AS quantity, 'note'::text AS note
  FROM generate_series(1, 40) u, generate_series(1, 30) i, generate_series(1, 2) d
 WHERE (u <= 20) = (i <= 15) AND abs(hashtext(u || ':' || i)) % 10 < 6 AND (d = 1 OR i % 5 = 0);
INSERT INTO purchases VALUES ('u01', NULL, '2026-01-02', 1, 'no item'), (NULL, 'i01', '2026-01-02', 1, 'no user');
CREATE VIEW empty_purchases AS SELECT * FROM purchases WHERE false;
CREATE ROLE rc_admin NOLOGIN IN ROLE insight_admin;
CREATE ROLE rc_analyst NOLOGIN IN ROLE insight_analyst;
GRANT SELECT ON purchases, empty_purchases TO rc_admin, rc_analyst;
SET ROLE rc_admin;

-- Every algorithm: one version each, the interaction counts in its metrics.
SELECT a AS asked, r.task, r.algorithm, r.rows_used, r.rows_skipped,
       (r.metrics->>'users')::int AS users, (r.metrics->>'items')::int AS items,
       (r.metrics->>'interactions')::int = (SELECT count(DISTINCT (customer, item)) FROM purchases
                                             WHERE customer IS NOT NULL AND item IS NOT NULL) AS pairs_ok
  FROM unnest(ARRAY['als', 'item_knn', 'user_knn', 'svd', 'popularity']) a,
       LATERAL insight.train_recommender('rec_' || a, 'purchases', 'customer', 'item',
                                         algorithm => a, factors => 4) r;

-- A known user: k items, none already bought, best first, from the user's own community.
SELECT a AS algorithm, count(*) AS items, bool_and(r.reason = a) AS own_reason,
       bool_and(r.item_id <= 'i15') AS own_community,
       bool_and(NOT EXISTS (SELECT FROM purchases p WHERE p.customer = 'u03' AND p.item = r.item_id)) AS unseen
  FROM unnest(ARRAY['als', 'item_knn', 'user_knn', 'svd']) a,
       LATERAL insight.recommend('rec_' || a, 'u03', 5) r
 GROUP BY a ORDER BY a;
SELECT bool_and(score <= prev) AS best_first
  FROM (SELECT score, lag(score) OVER (ORDER BY ord) AS prev
          FROM insight.recommend('rec_als', 'u03', 8) WITH ORDINALITY t(item_id, score, reason, ord)) s
 WHERE prev IS NOT NULL;
-- exclude_seen => false may return what the user bought.
SELECT count(*) FILTER (WHERE EXISTS (SELECT FROM purchases p WHERE p.customer = 'u03' AND p.item = r.item_id)) > 0 AS has_seen
  FROM insight.recommend('rec_als', 'u03', 15, exclude_seen => false) r;
-- Popularity: the most bought items, the user's own purchases excluded.
SELECT count(*) AS items, bool_and(reason = 'popularity') AS popular
  FROM insight.recommend('rec_popularity', 'u03', 5);
-- The cold start: an unknown user (or NULL) gets the most popular items, reason 'popularity'.
SELECT r.item_id, round(r.score::numeric, 4) AS score, r.reason
  FROM insight.recommend('rec_als', 'somebody new', 3) r;
SELECT count(*) AS items, bool_and(reason = 'popularity') AS popular
  FROM insight.recommend('rec_item_knn', NULL, 3);
-- k beyond the unseen items: every unseen item, no more.
SELECT count(*) = 30 - (SELECT count(DISTINCT item) FROM purchases WHERE customer = 'u03') AS all_unseen
  FROM insight.recommend('rec_als', 'u03', 1000);

-- Batch: top 3 for every user in one statement, the name resolved once.
SELECT (insight.model_cache_stats()->>'name_lookups')::int AS lookups_before \gset
SELECT count(*) AS rows, count(DISTINCT u.customer) AS users
  FROM (SELECT DISTINCT customer FROM purchases WHERE customer IS NOT NULL) u,
       LATERAL insight.recommend('rec_als', u.customer, 3) r;
SELECT (insight.model_cache_stats()->>'name_lookups')::int - :lookups_before AS name_lookups_for_40_users;

-- similar_items: k items like the given one, never itself, from its community.
SELECT a AS algorithm, count(*) AS items, bool_and(s.item_id <> 'i20') AS not_itself,
       bool_and(s.item_id > 'i15') AS same_community
  FROM unnest(ARRAY['als', 'item_knn', 'user_knn', 'svd', 'popularity']) a,
       LATERAL insight.similar_items('rec_' || a, 'i20', 4) s
 GROUP BY a ORDER BY a;
-- An unknown item: no rows, and a NOTICE that says so.
SELECT count(*) FROM insight.similar_items('rec_als', 'no such item', 5);

-- Training is deterministic: the same data gives the same payload, byte for byte.
SELECT (insight.train_recommender('rec_als', 'purchases', 'customer', 'item', factors => 4, deploy => false)).version;
SELECT count(DISTINCT payload) AS distinct_payloads FROM insight.models WHERE name = 'rec_als';

-- Weights from a column; minimum counts drop rare items (fewer than 10 buyers), then users
-- with fewer than 6 of the items left: the dropped user gets the cold-start list.
SELECT rows_used, rows_skipped, (metrics->>'users')::int AS users, (metrics->>'items')::int AS items
  FROM insight.train_recommender('rec_weighted', 'purchases', 'customer', 'item', 'quantity',
                                 min_user_interactions => 6, min_item_interactions => 10);
SELECT r.reason, count(*) AS users
  FROM (SELECT DISTINCT customer FROM purchases WHERE customer IS NOT NULL) u,
       LATERAL insight.recommend('rec_weighted', u.customer, 1) r
 GROUP BY 1 ORDER BY 1;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_recommender('rec_weighted', 'purchases', 'customer', 'item',
                                   min_user_interactions => 100)$$);

-- Offline evaluation: ALS beside popularity on a time-based split.
SELECT algorithm, array_agg(metric ORDER BY metric) AS metrics
  FROM insight.evaluate_recommender('purchases', 'customer', 'item', 'bought_at', 'als', 5,
                                    factors => 4)
 GROUP BY algorithm ORDER BY algorithm;
SELECT m.value > 1.5 * p.value AS als_beats_popularity_on_ndcg
  FROM insight.evaluate_recommender('purchases', 'customer', 'item', 'bought_at', 'als', 5, factors => 4) m
  JOIN insight.evaluate_recommender('purchases', 'customer', 'item', 'bought_at', 'als', 5, factors => 4) p
    ON m.metric = p.metric
 WHERE m.metric = 'ndcg_at_k' AND m.algorithm = 'als' AND p.algorithm = 'popularity';
SELECT bool_and(value BETWEEN 0 AND 1) AS in_range
  FROM insight.evaluate_recommender('purchases', 'customer', 'item', 'bought_at', 'item_knn', 10)
 WHERE metric <> 'users';
-- A global cut-off instead of the per-user fraction.
SELECT value > 0 AS users_scored
  FROM insight.evaluate_recommender('purchases', 'customer', 'item', 'bought_at', 'popularity',
                                    cutoff => '2026-02-15 00:00+00')
 WHERE metric = 'users';

-- Bad input, each with its SQLSTATE.
CALL pg_temp.expect_errors(
  $$SELECT insight.train_recommender('bad', 'purchases', 'customer', 'item', algorithm => 'magic')$$,
  $$SELECT insight.train_recommender('bad', 'purchases', 'customer', 'no_such_column')$$,
  $$SELECT insight.train_recommender('bad', 'purchases', 'customer', 'item', 'note')$$,
  $$SELECT insight.train_recommender('bad', 'purchases', 'customer', 'item', factors => 0)$$,
  $$SELECT insight.train_recommender('bad', 'purchases', 'customer', 'item', factors => 513)$$,
  $$SELECT insight.train_recommender('bad', 'empty_purchases', 'customer', 'item')$$,
  $$SELECT insight.train_recommender('bad', 'purchases', 'customer', 'item', algorithm => 'svd', factors => 64)$$);
CREATE TEMP VIEW negative AS SELECT customer, item, quantity - 2 AS quantity FROM purchases;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_recommender('bad', 'negative', 'customer', 'item', 'quantity')$$);
CREATE TEMP VIEW not_a_number AS SELECT customer, item, CASE WHEN item = 'i07' THEN 'NaN'::float8 ELSE 1 END AS w FROM purchases;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_recommender('bad', 'not_a_number', 'customer', 'item', 'w')$$);
CREATE TEMP VIEW too_heavy AS SELECT customer, item, CASE WHEN item = 'i07' THEN 1e16 ELSE 1 END AS w FROM purchases;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_recommender('bad', 'too_heavy', 'customer', 'item', 'w')$$,
  $$SELECT count(*) FROM insight.recommend('rec_als', 'u03', 0)$$,
  $$SELECT count(*) FROM insight.recommend('rec_als', 'u03', 1001)$$,
  $$SELECT count(*) FROM insight.similar_items('rec_als', 'i01', 0)$$,
  $$SELECT count(*) FROM insight.recommend('no_such_model', 'u03')$$);
SELECT insight.train_anomaly_detector('not_a_recommender', 'purchases', ARRAY['quantity']) IS NOT NULL AS trained;
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.recommend('not_a_recommender', 'u03')$$,
  $$SELECT count(*) FROM insight.evaluate_recommender('purchases', 'customer', 'item', 'note')$$,
  $$SELECT count(*) FROM insight.evaluate_recommender('purchases', 'customer', 'item', 'bought_at', test_fraction => 1)$$,
  $$SELECT count(*) FROM insight.evaluate_recommender('purchases', 'customer', 'item', 'bought_at', k => 0)$$);
DROP VIEW negative, not_a_number;
-- A corrupt payload is refused on import (and could never be scored).
CALL pg_temp.expect_errors(
  $$SELECT insight.import_model('corrupt', overlay(insight.export_model('rec_als') placing '\x00'::bytea from 200 for 1))$$);

-- Cancel: statement_timeout during ALS leaves the catalog untouched.
RESET ROLE;
CREATE TABLE many_purchases AS
SELECT 'c' || c AS customer, 'p' || ((c * 7 + k * 13) % 2000) AS item
  FROM generate_series(1, 20000) c, generate_series(1, 10) k;
GRANT SELECT ON many_purchases TO rc_admin;
SET ROLE rc_admin;
\set training 'SELECT insight.train_recommender(''too_slow'', ''many_purchases'', ''customer'', ''item'', factors => 256, iterations => 200)'
\set name too_slow
\set timeout 500ms
\i sql/include/cancelled_training.psql
RESET ROLE;

-- Privileges: analysts score but do not train; nobody reads a source they may not read.
SET ROLE rc_analyst;
SELECT count(*) AS items FROM insight.recommend('rec_als', 'u03', 5);
CALL pg_temp.expect_errors(
  $$SELECT insight.train_recommender('by_analyst', 'purchases', 'customer', 'item')$$);
RESET ROLE;
CREATE TABLE secret_purchases AS SELECT * FROM purchases;
SET ROLE rc_admin;
CALL pg_temp.expect_errors(
  $$SELECT insight.train_recommender('secret', 'secret_purchases', 'customer', 'item')$$,
  $$SELECT count(*) FROM insight.evaluate_recommender('secret_purchases', 'customer', 'item', 'bought_at')$$);
RESET ROLE;

-- The domain functions over insight.transactions and insight.products.
SET ROLE rc_admin;
\i sql/include/demo_shop.psql
SELECT name, algorithm, rows_used > 0 AS trained
  FROM insight.train_recommender('product_recommender', 'insight.transactions', 'user_id', 'product_id');
RESET ROLE;
SET ROLE rc_analyst;
SELECT count(*) AS items, bool_and(name IS NOT NULL) AS named, bool_and(reason = 'als') AS personal
  FROM insight.recommend_products((SELECT user_id FROM insight.transactions GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1), 5);
SELECT count(*) AS items, bool_and(reason = 'popularity') AS cold_start
  FROM insight.recommend_products('nobody', 5);
SELECT count(*) AS items, bool_and(name IS NOT NULL) AS named
  FROM insight.similar_products((SELECT product_id FROM insight.transactions GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1), 5);
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.similar_products('no-such-product')$$,
  $$SELECT count(*) FROM insight.similar_products(NULL)$$);
-- popular_products: the score is 0.4·transactions + 0.4·unique users + 0.2·100·revenue share of the top.
SELECT count(*) AS products,
       bool_and(abs(popularity_score - (0.4 * transaction_count + 0.4 * unique_users
                + 0.2 * 100 * total_amount / (SELECT max(s) FROM (SELECT sum(total_amount) s FROM insight.transactions
                   WHERE ts > '2026-03-01 00:00+00'::timestamptz - interval '30 days' AND ts <= '2026-03-01 00:00+00'
                   GROUP BY product_id) m)::float8)) < 1e-9) AS score_formula,
       bool_and(name IS NOT NULL) AS named
  FROM insight.popular_products(30, 5, until => '2026-03-01 00:00+00');
SELECT bool_and(popularity_score <= prev) AS best_first
  FROM (SELECT popularity_score, lag(popularity_score) OVER (ORDER BY ord) AS prev
          FROM insight.popular_products(30, 10, until => '2026-03-01 00:00+00') WITH ORDINALITY t(a, b, popularity_score, c, d, e, ord)) s
 WHERE prev IS NOT NULL;
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.popular_products(0)$$,
  $$SELECT count(*) FROM insight.popular_products(30, 0)$$);
RESET ROLE;

SELECT insight.drop_model(name) FROM insight.model_names
 WHERE name IN ('rec_als', 'rec_item_knn', 'rec_user_knn', 'rec_svd', 'rec_popularity',
                'rec_weighted', 'not_a_recommender', 'product_recommender')
 ORDER BY name;
-- Without its model, recommend_products says how to train it.
CALL pg_temp.expect_errors(
  $$SELECT count(*) FROM insight.recommend_products('u03')$$);
DROP TABLE purchases, secret_purchases, many_purchases CASCADE;
DROP ROLE rc_admin, rc_analyst;
