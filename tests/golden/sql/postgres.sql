-- source `sessions`: 10 KPIs in 1 query (postgres)
-- query 1 of 1: `started_at`, months 2025-10 to 2026-10, window period; KPIs: conversion_rate, cta_conversion_rate, landing_page_conversion_rate, visitors_per_day, bounce_rate, pages_per_session, avg_session_duration, returning_visitor_share, paid_traffic_share, campaign_conversion_rate
SELECT
  __rows."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN 'channel'
    WHEN GROUPING(__rows."device") = 0
    THEN 'device'
    WHEN GROUPING(__rows."country") = 0
    THEN 'country'
    WHEN GROUPING(__rows."landing_page") = 0
    THEN 'landing_page'
    WHEN GROUPING(__rows."campaigns.objective") = 0
    THEN 'campaigns.objective'
    WHEN GROUPING(__rows."campaigns.kind") = 0
    THEN 'campaigns.kind'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN CAST(__rows."channel" AS VARCHAR)
    WHEN GROUPING(__rows."device") = 0
    THEN CAST(__rows."device" AS VARCHAR)
    WHEN GROUPING(__rows."country") = 0
    THEN CAST(__rows."country" AS VARCHAR)
    WHEN GROUPING(__rows."landing_page") = 0
    THEN CAST(__rows."landing_page" AS VARCHAR)
    WHEN GROUPING(__rows."campaigns.objective") = 0
    THEN CAST(__rows."campaigns.objective" AS VARCHAR)
    WHEN GROUPING(__rows."campaigns.kind") = 0
    THEN CAST(__rows."campaigns.kind" AS VARCHAR)
  END AS __member,
  AVG(CAST(CAST(__rows."converted" AS INT) AS DOUBLE PRECISION)) AS __a0_0,
  AVG(CAST(CAST(__rows."clicked_cta" AS INT) AS DOUBLE PRECISION)) AS __a0_1,
  AVG(CAST(CAST((
    __rows."converted" OR __rows."lead"
  ) AS INT) AS DOUBLE PRECISION)) FILTER(WHERE
    __rows."is_campaign_landing") AS __a0_2,
  COUNT(DISTINCT __rows."visitor_id") AS __a0_3,
  AVG(CAST(CAST(__rows."pages" = 1 AS INT) AS DOUBLE PRECISION)) AS __a0_4,
  AVG(CAST(__rows."pages" AS DOUBLE PRECISION)) AS __a0_5,
  AVG(CAST(__rows."duration_s" AS DOUBLE PRECISION)) AS __a0_6,
  COUNT(DISTINCT __rows."visitor_id") FILTER(WHERE
    __rows."returning") AS __a0_7,
  COUNT(DISTINCT __rows."visitor_id") AS __a0_8,
  COUNT(*) FILTER(WHERE
    (
      __rows."channel" = 'paid_search'
      OR __rows."channel" = 'social'
      OR __rows."channel" = 'display'
    )) AS __a0_9,
  COUNT(*) AS __a0_10,
  AVG(CAST(CAST(__rows."converted" AS INT) AS DOUBLE PRECISION)) FILTER(WHERE
    NOT __rows."campaign" IS NULL) AS __a0_11
FROM (
  SELECT
    *,
    CASE
      WHEN "started_at" < CAST('2025-11-01 00:00:00' AS TIMESTAMP)
      THEN 24309
      WHEN "started_at" < CAST('2025-12-01 00:00:00' AS TIMESTAMP)
      THEN 24310
      WHEN "started_at" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)
      THEN 24311
      WHEN "started_at" < CAST('2026-02-01 00:00:00' AS TIMESTAMP)
      THEN 24312
      WHEN "started_at" < CAST('2026-03-01 00:00:00' AS TIMESTAMP)
      THEN 24313
      WHEN "started_at" < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
      THEN 24314
      WHEN "started_at" < CAST('2026-05-01 00:00:00' AS TIMESTAMP)
      THEN 24315
      WHEN "started_at" < CAST('2026-06-01 00:00:00' AS TIMESTAMP)
      THEN 24316
      WHEN "started_at" < CAST('2026-07-01 00:00:00' AS TIMESTAMP)
      THEN 24317
      WHEN "started_at" < CAST('2026-08-01 00:00:00' AS TIMESTAMP)
      THEN 24318
      WHEN "started_at" < CAST('2026-09-01 00:00:00' AS TIMESTAMP)
      THEN 24319
      WHEN "started_at" < CAST('2026-10-01 00:00:00' AS TIMESTAMP)
      THEN 24320
      WHEN "started_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
      THEN 24321
    END AS __p
  FROM (
    SELECT
      __s.*,
      "__j0"."campaign" AS "campaigns.campaign",
      "__j0"."channel" AS "campaigns.channel",
      "__j0"."kind" AS "campaigns.kind",
      "__j0"."objective" AS "campaigns.objective",
      "__j0"."monthly_budget" AS "campaigns.monthly_budget"
    FROM "sessions" AS __s
    LEFT JOIN "campaigns" AS __j0
      ON "__s"."campaign" = "__j0"."campaign"
  ) AS __source_rows
  WHERE
    "started_at" >= CAST('2025-10-01 00:00:00' AS TIMESTAMP)
    AND "started_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
) AS __rows
GROUP BY
  GROUPING SETS (
    (__rows."__p"),
    (__rows."__p", __rows."channel"),
    (__rows."__p", __rows."device"),
    (__rows."__p", __rows."country"),
    (__rows."__p", __rows."landing_page"),
    (__rows."__p", __rows."campaigns.objective"),
    (__rows."__p", __rows."campaigns.kind")
  );

-- source `leads`: 2 KPIs in 1 query (postgres)
-- query 1 of 1: `created_at`, months 2025-10 to 2026-10, window period; KPIs: new_leads, lead_to_customer_rate
SELECT
  __rows."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN 'channel'
    WHEN GROUPING(__rows."country") = 0
    THEN 'country'
    WHEN GROUPING(__rows."landing_page") = 0
    THEN 'landing_page'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN CAST(__rows."channel" AS VARCHAR)
    WHEN GROUPING(__rows."country") = 0
    THEN CAST(__rows."country" AS VARCHAR)
    WHEN GROUPING(__rows."landing_page") = 0
    THEN CAST(__rows."landing_page" AS VARCHAR)
  END AS __member,
  COUNT(*) AS __a0_0,
  AVG(
    CAST(CAST((
      NOT __rows."became_customer_at" IS NULL
      AND CAST((
        CAST(EXTRACT(EPOCH FROM LEAST(
          __rows."became_customer_at" AT TIME ZONE 'Europe/Oslo',
          (
            __rows."became_customer_at" - INTERVAL '1 HOUR'
          ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
        )) * 1000000 AS BIGINT) - CAST(EXTRACT(EPOCH FROM LEAST(
          __rows."created_at" AT TIME ZONE 'Europe/Oslo',
          (
            __rows."created_at" - INTERVAL '1 HOUR'
          ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
        )) * 1000000 AS BIGINT)
      ) AS DOUBLE PRECISION) / 86400000000.0 <= 21
    ) AS INT) AS DOUBLE PRECISION)
  ) AS __a0_1
FROM (
  SELECT
    *,
    CASE
      WHEN "created_at" < CAST('2025-11-01 00:00:00' AS TIMESTAMP)
      THEN 24309
      WHEN "created_at" < CAST('2025-12-01 00:00:00' AS TIMESTAMP)
      THEN 24310
      WHEN "created_at" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)
      THEN 24311
      WHEN "created_at" < CAST('2026-02-01 00:00:00' AS TIMESTAMP)
      THEN 24312
      WHEN "created_at" < CAST('2026-03-01 00:00:00' AS TIMESTAMP)
      THEN 24313
      WHEN "created_at" < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
      THEN 24314
      WHEN "created_at" < CAST('2026-05-01 00:00:00' AS TIMESTAMP)
      THEN 24315
      WHEN "created_at" < CAST('2026-06-01 00:00:00' AS TIMESTAMP)
      THEN 24316
      WHEN "created_at" < CAST('2026-07-01 00:00:00' AS TIMESTAMP)
      THEN 24317
      WHEN "created_at" < CAST('2026-08-01 00:00:00' AS TIMESTAMP)
      THEN 24318
      WHEN "created_at" < CAST('2026-09-01 00:00:00' AS TIMESTAMP)
      THEN 24319
      WHEN "created_at" < CAST('2026-10-01 00:00:00' AS TIMESTAMP)
      THEN 24320
      WHEN "created_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
      THEN 24321
    END AS __p
  FROM "leads" AS __source_rows
  WHERE
    "created_at" >= CAST('2025-10-01 00:00:00' AS TIMESTAMP)
    AND "created_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
) AS __rows
GROUP BY
  GROUPING SETS (
    (__rows."__p"),
    (__rows."__p", __rows."channel"),
    (__rows."__p", __rows."country"),
    (__rows."__p", __rows."landing_page")
  );

-- source `ads`: 3 KPIs in 1 query (postgres)
-- query 1 of 1: `date`, months 2025-10 to 2026-10, window period; KPIs: ad_spend, ad_clicks, ad_ctr
SELECT
  __rows."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN 'channel'
    WHEN GROUPING(__rows."campaign") = 0
    THEN 'campaign'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN CAST(__rows."channel" AS VARCHAR)
    WHEN GROUPING(__rows."campaign") = 0
    THEN CAST(__rows."campaign" AS VARCHAR)
  END AS __member,
  SUM(CAST(__rows."spend" AS DOUBLE PRECISION)) AS __a0_0,
  SUM(CAST(__rows."clicks" AS DOUBLE PRECISION)) AS __a0_1,
  SUM(CAST(__rows."clicks" AS DOUBLE PRECISION)) AS __a0_2,
  SUM(CAST(__rows."impressions" AS DOUBLE PRECISION)) AS __a0_3
FROM (
  SELECT
    *,
    CASE
      WHEN "date" < CAST('2025-11-01' AS DATE)
      THEN 24309
      WHEN "date" < CAST('2025-12-01' AS DATE)
      THEN 24310
      WHEN "date" < CAST('2026-01-01' AS DATE)
      THEN 24311
      WHEN "date" < CAST('2026-02-01' AS DATE)
      THEN 24312
      WHEN "date" < CAST('2026-03-01' AS DATE)
      THEN 24313
      WHEN "date" < CAST('2026-04-01' AS DATE)
      THEN 24314
      WHEN "date" < CAST('2026-05-01' AS DATE)
      THEN 24315
      WHEN "date" < CAST('2026-06-01' AS DATE)
      THEN 24316
      WHEN "date" < CAST('2026-07-01' AS DATE)
      THEN 24317
      WHEN "date" < CAST('2026-08-01' AS DATE)
      THEN 24318
      WHEN "date" < CAST('2026-09-01' AS DATE)
      THEN 24319
      WHEN "date" < CAST('2026-10-01' AS DATE)
      THEN 24320
      WHEN "date" < CAST('2026-11-01' AS DATE)
      THEN 24321
    END AS __p
  FROM "ads" AS __source_rows
  WHERE
    "date" >= CAST('2025-10-01' AS DATE) AND "date" < CAST('2026-11-01' AS DATE)
) AS __rows
GROUP BY
  GROUPING SETS (
    (__rows."__p"),
    (__rows."__p", __rows."channel"),
    (__rows."__p", __rows."campaign")
  );

-- source `surveys`: 3 KPIs in 1 query (postgres)
-- query 1 of 1: `answered_at`, months 2025-10 to 2026-10, window period; KPIs: nps, csat, ces
SELECT
  __rows."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN 'channel'
    WHEN GROUPING(__rows."country") = 0
    THEN 'country'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN CAST(__rows."channel" AS VARCHAR)
    WHEN GROUPING(__rows."country") = 0
    THEN CAST(__rows."country" AS VARCHAR)
  END AS __member,
  AVG(CAST(CAST(__rows."nps_score" >= 9 AS INT) AS DOUBLE PRECISION)) AS __a0_0,
  AVG(CAST(CAST(__rows."nps_score" <= 6 AS INT) AS DOUBLE PRECISION)) AS __a0_1,
  AVG(CAST(CAST(__rows."csat_score" >= 4 AS INT) AS DOUBLE PRECISION)) AS __a0_2,
  AVG(CAST(__rows."ces_score" AS DOUBLE PRECISION)) AS __a0_3
FROM (
  SELECT
    *,
    CASE
      WHEN "answered_at" < CAST('2025-11-01 00:00:00' AS TIMESTAMP)
      THEN 24309
      WHEN "answered_at" < CAST('2025-12-01 00:00:00' AS TIMESTAMP)
      THEN 24310
      WHEN "answered_at" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)
      THEN 24311
      WHEN "answered_at" < CAST('2026-02-01 00:00:00' AS TIMESTAMP)
      THEN 24312
      WHEN "answered_at" < CAST('2026-03-01 00:00:00' AS TIMESTAMP)
      THEN 24313
      WHEN "answered_at" < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
      THEN 24314
      WHEN "answered_at" < CAST('2026-05-01 00:00:00' AS TIMESTAMP)
      THEN 24315
      WHEN "answered_at" < CAST('2026-06-01 00:00:00' AS TIMESTAMP)
      THEN 24316
      WHEN "answered_at" < CAST('2026-07-01 00:00:00' AS TIMESTAMP)
      THEN 24317
      WHEN "answered_at" < CAST('2026-08-01 00:00:00' AS TIMESTAMP)
      THEN 24318
      WHEN "answered_at" < CAST('2026-09-01 00:00:00' AS TIMESTAMP)
      THEN 24319
      WHEN "answered_at" < CAST('2026-10-01 00:00:00' AS TIMESTAMP)
      THEN 24320
      WHEN "answered_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
      THEN 24321
    END AS __p
  FROM "surveys" AS __source_rows
  WHERE
    "answered_at" >= CAST('2025-10-01 00:00:00' AS TIMESTAMP)
    AND "answered_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
) AS __rows
GROUP BY
  GROUPING SETS (
    (__rows."__p"),
    (__rows."__p", __rows."channel"),
    (__rows."__p", __rows."country")
  );

-- source `customers`: 3 KPIs in 2 queries (postgres)
-- query 1 of 2: no time column, months 2025-10 to 2026-10, window period; KPIs: customer_churn_rate, customer_retention_rate
SELECT
  __periods."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."segment") = 0
    THEN 'segment'
    WHEN GROUPING(__rows."country") = 0
    THEN 'country'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."segment") = 0
    THEN CAST(__rows."segment" AS VARCHAR)
    WHEN GROUPING(__rows."country") = 0
    THEN CAST(__rows."country" AS VARCHAR)
  END AS __member,
  COUNT(*) FILTER(WHERE
    (
      LEAST(
        __rows."churned_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."churned_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      ) >= __periods."__ps"
      AND LEAST(
        __rows."churned_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."churned_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      ) < __periods."__pe"
    )) AS __a0_0,
  COUNT(*) FILTER(WHERE
    (
      LEAST(
        __rows."signed_up_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."signed_up_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      ) < __periods."__ps"
      AND (
        __rows."churned_at" IS NULL
        OR LEAST(
          __rows."churned_at" AT TIME ZONE 'Europe/Oslo',
          (
            __rows."churned_at" - INTERVAL '1 HOUR'
          ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
        ) >= __periods."__ps"
      )
    )) AS __a0_1,
  COUNT(*) FILTER(WHERE
    (
      LEAST(
        __rows."signed_up_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."signed_up_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      ) < __periods."__pe"
      AND (
        __rows."churned_at" IS NULL
        OR LEAST(
          __rows."churned_at" AT TIME ZONE 'Europe/Oslo',
          (
            __rows."churned_at" - INTERVAL '1 HOUR'
          ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
        ) >= __periods."__pe"
      )
    )) AS __a0_2,
  COUNT(*) FILTER(WHERE
    (
      LEAST(
        __rows."signed_up_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."signed_up_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      ) >= __periods."__ps"
      AND LEAST(
        __rows."signed_up_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."signed_up_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      ) < __periods."__pe"
    )) AS __a0_3,
  COUNT(*) FILTER(WHERE
    (
      LEAST(
        __rows."signed_up_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."signed_up_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      ) < __periods."__ps"
      AND (
        __rows."churned_at" IS NULL
        OR LEAST(
          __rows."churned_at" AT TIME ZONE 'Europe/Oslo',
          (
            __rows."churned_at" - INTERVAL '1 HOUR'
          ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
        ) >= __periods."__ps"
      )
    )) AS __a0_4
FROM "customers" AS __rows
CROSS JOIN (VALUES
  (
    24309,
    NULL,
    NULL,
    CAST('2025-09-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2025-10-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24310,
    NULL,
    NULL,
    CAST('2025-10-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2025-11-30 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24311,
    NULL,
    NULL,
    CAST('2025-11-30 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2025-12-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24312,
    NULL,
    NULL,
    CAST('2025-12-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-01-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24313,
    NULL,
    NULL,
    CAST('2026-01-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-02-28 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(28.0 AS DOUBLE PRECISION)
  ),
  (
    24314,
    NULL,
    NULL,
    CAST('2026-02-28 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-03-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24315,
    NULL,
    NULL,
    CAST('2026-03-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-04-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24316,
    NULL,
    NULL,
    CAST('2026-04-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-05-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24317,
    NULL,
    NULL,
    CAST('2026-05-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-06-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24318,
    NULL,
    NULL,
    CAST('2026-06-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-07-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24319,
    NULL,
    NULL,
    CAST('2026-07-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-08-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24320,
    NULL,
    NULL,
    CAST('2026-08-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-09-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24321,
    NULL,
    NULL,
    CAST('2026-09-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-10-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  )) AS __periods(__p, __lo, __hi, __ps, __pe, __pd)
GROUP BY
  GROUPING SETS (
    (__periods."__p"),
    (__periods."__p", __rows."segment"),
    (__periods."__p", __rows."country")
  );
-- query 2 of 2: `churned_at`, months 2025-10 to 2026-10, window 12 months; KPIs: clv
SELECT
  __periods."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."segment") = 0
    THEN 'segment'
    WHEN GROUPING(__rows."country") = 0
    THEN 'country'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."segment") = 0
    THEN CAST(__rows."segment" AS VARCHAR)
    WHEN GROUPING(__rows."country") = 0
    THEN CAST(__rows."country" AS VARCHAR)
  END AS __member,
  AVG(CAST(__rows."revenue_to_date" AS DOUBLE PRECISION)) AS __a1_0
FROM "customers" AS __rows
JOIN (VALUES
  (
    24309,
    CAST('2024-11-01 00:00:00' AS TIMESTAMP),
    CAST('2025-11-01 00:00:00' AS TIMESTAMP),
    CAST('2025-09-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2025-10-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24310,
    CAST('2024-12-01 00:00:00' AS TIMESTAMP),
    CAST('2025-12-01 00:00:00' AS TIMESTAMP),
    CAST('2025-10-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2025-11-30 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24311,
    CAST('2025-01-01 00:00:00' AS TIMESTAMP),
    CAST('2026-01-01 00:00:00' AS TIMESTAMP),
    CAST('2025-11-30 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2025-12-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24312,
    CAST('2025-02-01 00:00:00' AS TIMESTAMP),
    CAST('2026-02-01 00:00:00' AS TIMESTAMP),
    CAST('2025-12-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-01-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24313,
    CAST('2025-03-01 00:00:00' AS TIMESTAMP),
    CAST('2026-03-01 00:00:00' AS TIMESTAMP),
    CAST('2026-01-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-02-28 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(28.0 AS DOUBLE PRECISION)
  ),
  (
    24314,
    CAST('2025-04-01 00:00:00' AS TIMESTAMP),
    CAST('2026-04-01 00:00:00' AS TIMESTAMP),
    CAST('2026-02-28 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-03-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24315,
    CAST('2025-05-01 00:00:00' AS TIMESTAMP),
    CAST('2026-05-01 00:00:00' AS TIMESTAMP),
    CAST('2026-03-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-04-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24316,
    CAST('2025-06-01 00:00:00' AS TIMESTAMP),
    CAST('2026-06-01 00:00:00' AS TIMESTAMP),
    CAST('2026-04-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-05-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24317,
    CAST('2025-07-01 00:00:00' AS TIMESTAMP),
    CAST('2026-07-01 00:00:00' AS TIMESTAMP),
    CAST('2026-05-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-06-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24318,
    CAST('2025-08-01 00:00:00' AS TIMESTAMP),
    CAST('2026-08-01 00:00:00' AS TIMESTAMP),
    CAST('2026-06-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-07-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24319,
    CAST('2025-09-01 00:00:00' AS TIMESTAMP),
    CAST('2026-09-01 00:00:00' AS TIMESTAMP),
    CAST('2026-07-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-08-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24320,
    CAST('2025-10-01 00:00:00' AS TIMESTAMP),
    CAST('2026-10-01 00:00:00' AS TIMESTAMP),
    CAST('2026-08-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-09-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24321,
    CAST('2025-11-01 00:00:00' AS TIMESTAMP),
    CAST('2026-11-01 00:00:00' AS TIMESTAMP),
    CAST('2026-09-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-10-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  )) AS __periods(__p, __lo, __hi, __ps, __pe, __pd)
  ON __rows."churned_at" >= __periods."__lo"
  AND __rows."churned_at" < __periods."__hi"
GROUP BY
  GROUPING SETS (
    (__periods."__p"),
    (__periods."__p", __rows."segment"),
    (__periods."__p", __rows."country")
  );

-- source `tickets`: 2 KPIs in 1 query (postgres)
-- query 1 of 1: `resolved_at`, months 2025-10 to 2026-10, window period; KPIs: resolution_time, resolution_time_p90
SELECT
  __rows."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN 'channel'
    WHEN GROUPING(__rows."priority") = 0
    THEN 'priority'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN CAST(__rows."channel" AS VARCHAR)
    WHEN GROUPING(__rows."priority") = 0
    THEN CAST(__rows."priority" AS VARCHAR)
  END AS __member,
  AVG(
    CAST(CAST((
      CAST(EXTRACT(EPOCH FROM LEAST(
        __rows."resolved_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."resolved_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      )) * 1000000 AS BIGINT) - CAST(EXTRACT(EPOCH FROM LEAST(
        __rows."opened_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."opened_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      )) * 1000000 AS BIGINT)
    ) AS DOUBLE PRECISION) / 3600000000.0 AS DOUBLE PRECISION)
  ) AS __a0_0,
  PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
    CAST(CAST((
      CAST(EXTRACT(EPOCH FROM LEAST(
        __rows."resolved_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."resolved_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      )) * 1000000 AS BIGINT) - CAST(EXTRACT(EPOCH FROM LEAST(
        __rows."opened_at" AT TIME ZONE 'Europe/Oslo',
        (
          __rows."opened_at" - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      )) * 1000000 AS BIGINT)
    ) AS DOUBLE PRECISION) / 3600000000.0 AS DOUBLE PRECISION)) AS __a0_1
FROM (
  SELECT
    *,
    CASE
      WHEN "resolved_at" < CAST('2025-11-01 00:00:00' AS TIMESTAMP)
      THEN 24309
      WHEN "resolved_at" < CAST('2025-12-01 00:00:00' AS TIMESTAMP)
      THEN 24310
      WHEN "resolved_at" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)
      THEN 24311
      WHEN "resolved_at" < CAST('2026-02-01 00:00:00' AS TIMESTAMP)
      THEN 24312
      WHEN "resolved_at" < CAST('2026-03-01 00:00:00' AS TIMESTAMP)
      THEN 24313
      WHEN "resolved_at" < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
      THEN 24314
      WHEN "resolved_at" < CAST('2026-05-01 00:00:00' AS TIMESTAMP)
      THEN 24315
      WHEN "resolved_at" < CAST('2026-06-01 00:00:00' AS TIMESTAMP)
      THEN 24316
      WHEN "resolved_at" < CAST('2026-07-01 00:00:00' AS TIMESTAMP)
      THEN 24317
      WHEN "resolved_at" < CAST('2026-08-01 00:00:00' AS TIMESTAMP)
      THEN 24318
      WHEN "resolved_at" < CAST('2026-09-01 00:00:00' AS TIMESTAMP)
      THEN 24319
      WHEN "resolved_at" < CAST('2026-10-01 00:00:00' AS TIMESTAMP)
      THEN 24320
      WHEN "resolved_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
      THEN 24321
    END AS __p
  FROM "tickets" AS __source_rows
  WHERE
    "resolved_at" >= CAST('2025-10-01 00:00:00' AS TIMESTAMP)
    AND "resolved_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
) AS __rows
GROUP BY
  GROUPING SETS (
    (__rows."__p"),
    (__rows."__p", __rows."channel"),
    (__rows."__p", __rows."priority")
  );

-- source `orders`: 3 KPIs in 1 query (postgres)
-- query 1 of 1: `ordered_at`, months 2025-10 to 2026-10, window period; KPIs: revenue, aov, return_rate
SELECT
  __rows."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN 'channel'
    WHEN GROUPING(__rows."country") = 0
    THEN 'country'
    WHEN GROUPING(__rows."device") = 0
    THEN 'device'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN CAST(__rows."channel" AS VARCHAR)
    WHEN GROUPING(__rows."country") = 0
    THEN CAST(__rows."country" AS VARCHAR)
    WHEN GROUPING(__rows."device") = 0
    THEN CAST(__rows."device" AS VARCHAR)
  END AS __member,
  SUM(CAST(__rows."amount" AS DOUBLE PRECISION)) FILTER(WHERE
    __rows."status" = 'completed') AS __a0_0,
  SUM(CAST(__rows."amount" AS DOUBLE PRECISION)) FILTER(WHERE
    __rows."status" = 'completed') AS __a0_1,
  COUNT(*) FILTER(WHERE
    __rows."status" = 'completed') AS __a0_2,
  COUNT(*) FILTER(WHERE
    (
      __rows."status" = 'completed' AND __rows."returned"
    )) AS __a0_3,
  COUNT(*) FILTER(WHERE
    __rows."status" = 'completed') AS __a0_4
FROM (
  SELECT
    *,
    CASE
      WHEN "ordered_at" < CAST('2025-11-01 00:00:00' AS TIMESTAMP)
      THEN 24309
      WHEN "ordered_at" < CAST('2025-12-01 00:00:00' AS TIMESTAMP)
      THEN 24310
      WHEN "ordered_at" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)
      THEN 24311
      WHEN "ordered_at" < CAST('2026-02-01 00:00:00' AS TIMESTAMP)
      THEN 24312
      WHEN "ordered_at" < CAST('2026-03-01 00:00:00' AS TIMESTAMP)
      THEN 24313
      WHEN "ordered_at" < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
      THEN 24314
      WHEN "ordered_at" < CAST('2026-05-01 00:00:00' AS TIMESTAMP)
      THEN 24315
      WHEN "ordered_at" < CAST('2026-06-01 00:00:00' AS TIMESTAMP)
      THEN 24316
      WHEN "ordered_at" < CAST('2026-07-01 00:00:00' AS TIMESTAMP)
      THEN 24317
      WHEN "ordered_at" < CAST('2026-08-01 00:00:00' AS TIMESTAMP)
      THEN 24318
      WHEN "ordered_at" < CAST('2026-09-01 00:00:00' AS TIMESTAMP)
      THEN 24319
      WHEN "ordered_at" < CAST('2026-10-01 00:00:00' AS TIMESTAMP)
      THEN 24320
      WHEN "ordered_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
      THEN 24321
    END AS __p
  FROM "orders" AS __source_rows
  WHERE
    "ordered_at" >= CAST('2025-10-01 00:00:00' AS TIMESTAMP)
    AND "ordered_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
) AS __rows
GROUP BY
  GROUPING SETS (
    (__rows."__p"),
    (__rows."__p", __rows."channel"),
    (__rows."__p", __rows."country"),
    (__rows."__p", __rows."device")
  );

-- source `carts`: 1 KPI in 1 query (postgres)
-- query 1 of 1: `created_at`, months 2025-10 to 2026-10, window period; KPIs: cart_abandonment_rate
SELECT
  __rows."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN 'channel'
    WHEN GROUPING(__rows."device") = 0
    THEN 'device'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."channel") = 0
    THEN CAST(__rows."channel" AS VARCHAR)
    WHEN GROUPING(__rows."device") = 0
    THEN CAST(__rows."device" AS VARCHAR)
  END AS __member,
  COUNT(*) FILTER(WHERE
    NOT (
      COALESCE(__rows."checked_out", FALSE)
    )) AS __a0_0,
  COUNT(*) AS __a0_1
FROM (
  SELECT
    *,
    CASE
      WHEN "created_at" < CAST('2025-11-01 00:00:00' AS TIMESTAMP)
      THEN 24309
      WHEN "created_at" < CAST('2025-12-01 00:00:00' AS TIMESTAMP)
      THEN 24310
      WHEN "created_at" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)
      THEN 24311
      WHEN "created_at" < CAST('2026-02-01 00:00:00' AS TIMESTAMP)
      THEN 24312
      WHEN "created_at" < CAST('2026-03-01 00:00:00' AS TIMESTAMP)
      THEN 24313
      WHEN "created_at" < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
      THEN 24314
      WHEN "created_at" < CAST('2026-05-01 00:00:00' AS TIMESTAMP)
      THEN 24315
      WHEN "created_at" < CAST('2026-06-01 00:00:00' AS TIMESTAMP)
      THEN 24316
      WHEN "created_at" < CAST('2026-07-01 00:00:00' AS TIMESTAMP)
      THEN 24317
      WHEN "created_at" < CAST('2026-08-01 00:00:00' AS TIMESTAMP)
      THEN 24318
      WHEN "created_at" < CAST('2026-09-01 00:00:00' AS TIMESTAMP)
      THEN 24319
      WHEN "created_at" < CAST('2026-10-01 00:00:00' AS TIMESTAMP)
      THEN 24320
      WHEN "created_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
      THEN 24321
    END AS __p
  FROM "carts" AS __source_rows
  WHERE
    "created_at" >= CAST('2025-10-01 00:00:00' AS TIMESTAMP)
    AND "created_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
) AS __rows
GROUP BY
  GROUPING SETS (
    (__rows."__p"),
    (__rows."__p", __rows."channel"),
    (__rows."__p", __rows."device")
  );

-- source `email_sends`: 4 KPIs in 1 query (postgres)
-- query 1 of 1: `sent_at`, months 2025-10 to 2026-10, window period; KPIs: email_open_rate, email_click_rate, email_click_to_open_rate, email_unsubscribe_rate
SELECT
  __rows."__p" AS __p,
  CASE
    WHEN GROUPING(__rows."segment") = 0
    THEN 'segment'
    WHEN GROUPING(__rows."campaign") = 0
    THEN 'campaign'
  END AS __dimension,
  CASE
    WHEN GROUPING(__rows."segment") = 0
    THEN CAST(__rows."segment" AS VARCHAR)
    WHEN GROUPING(__rows."campaign") = 0
    THEN CAST(__rows."campaign" AS VARCHAR)
  END AS __member,
  SUM(CAST(__rows."opens" AS DOUBLE PRECISION)) AS __a0_0,
  SUM(CAST(__rows."delivered" AS DOUBLE PRECISION)) FILTER(WHERE
    NOT __rows."opens" IS NULL) AS __a0_1,
  SUM(CAST(__rows."clicks" AS DOUBLE PRECISION)) AS __a0_2,
  SUM(CAST(__rows."delivered" AS DOUBLE PRECISION)) FILTER(WHERE
    NOT __rows."clicks" IS NULL) AS __a0_3,
  SUM(CAST(__rows."clicks" AS DOUBLE PRECISION)) AS __a0_4,
  SUM(CAST(__rows."opens" AS DOUBLE PRECISION)) AS __a0_5,
  SUM(CAST(__rows."unsubscribes" AS DOUBLE PRECISION)) AS __a0_6,
  SUM(CAST(__rows."delivered" AS DOUBLE PRECISION)) AS __a0_7
FROM (
  SELECT
    *,
    CASE
      WHEN "sent_at" < CAST('2025-11-01 00:00:00' AS TIMESTAMP)
      THEN 24309
      WHEN "sent_at" < CAST('2025-12-01 00:00:00' AS TIMESTAMP)
      THEN 24310
      WHEN "sent_at" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)
      THEN 24311
      WHEN "sent_at" < CAST('2026-02-01 00:00:00' AS TIMESTAMP)
      THEN 24312
      WHEN "sent_at" < CAST('2026-03-01 00:00:00' AS TIMESTAMP)
      THEN 24313
      WHEN "sent_at" < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
      THEN 24314
      WHEN "sent_at" < CAST('2026-05-01 00:00:00' AS TIMESTAMP)
      THEN 24315
      WHEN "sent_at" < CAST('2026-06-01 00:00:00' AS TIMESTAMP)
      THEN 24316
      WHEN "sent_at" < CAST('2026-07-01 00:00:00' AS TIMESTAMP)
      THEN 24317
      WHEN "sent_at" < CAST('2026-08-01 00:00:00' AS TIMESTAMP)
      THEN 24318
      WHEN "sent_at" < CAST('2026-09-01 00:00:00' AS TIMESTAMP)
      THEN 24319
      WHEN "sent_at" < CAST('2026-10-01 00:00:00' AS TIMESTAMP)
      THEN 24320
      WHEN "sent_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
      THEN 24321
    END AS __p
  FROM "email_sends" AS __source_rows
  WHERE
    "sent_at" >= CAST('2025-10-01 00:00:00' AS TIMESTAMP)
    AND "sent_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
) AS __rows
GROUP BY
  GROUPING SETS (
    (__rows."__p"),
    (__rows."__p", __rows."segment"),
    (__rows."__p", __rows."campaign")
  );

-- source `social_posts`: 5 KPIs in 1 query (postgres)
-- query 1 of 1: `posted_at`, months 2025-10 to 2026-10, window period; KPIs: social_engagement_rate, social_shares, social_reach, social_posts_per_week, social_cpc
SELECT
  __rows."__p" AS __p,
  CASE WHEN GROUPING(__rows."network") = 0 THEN 'network' END AS __dimension,
  CASE WHEN GROUPING(__rows."network") = 0 THEN CAST(__rows."network" AS VARCHAR) END AS __member,
  AVG(
    CAST((
      CAST((
        CAST((
          CAST(COALESCE(__rows."likes", 0) AS DOUBLE PRECISION) + CAST(COALESCE(__rows."comments", 0) AS DOUBLE PRECISION)
        ) AS DOUBLE PRECISION) + CAST(COALESCE(__rows."shares", 0) AS DOUBLE PRECISION)
      ) AS DOUBLE PRECISION) / NULLIF(CAST(__rows."followers" AS DOUBLE PRECISION), 0)
    ) AS DOUBLE PRECISION)
  ) AS __a0_0,
  SUM(CAST(__rows."shares" AS DOUBLE PRECISION)) AS __a0_1,
  SUM(CAST(__rows."reach" AS DOUBLE PRECISION)) AS __a0_2,
  COUNT(*) AS __a0_3,
  SUM(CAST(__rows."spend" AS DOUBLE PRECISION)) FILTER(WHERE
    __rows."spend" > 0) AS __a0_4,
  SUM(CAST(__rows."clicks" AS DOUBLE PRECISION)) FILTER(WHERE
    __rows."spend" > 0) AS __a0_5
FROM (
  SELECT
    *,
    CASE
      WHEN "posted_at" < CAST('2025-11-01 00:00:00' AS TIMESTAMP)
      THEN 24309
      WHEN "posted_at" < CAST('2025-12-01 00:00:00' AS TIMESTAMP)
      THEN 24310
      WHEN "posted_at" < CAST('2026-01-01 00:00:00' AS TIMESTAMP)
      THEN 24311
      WHEN "posted_at" < CAST('2026-02-01 00:00:00' AS TIMESTAMP)
      THEN 24312
      WHEN "posted_at" < CAST('2026-03-01 00:00:00' AS TIMESTAMP)
      THEN 24313
      WHEN "posted_at" < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
      THEN 24314
      WHEN "posted_at" < CAST('2026-05-01 00:00:00' AS TIMESTAMP)
      THEN 24315
      WHEN "posted_at" < CAST('2026-06-01 00:00:00' AS TIMESTAMP)
      THEN 24316
      WHEN "posted_at" < CAST('2026-07-01 00:00:00' AS TIMESTAMP)
      THEN 24317
      WHEN "posted_at" < CAST('2026-08-01 00:00:00' AS TIMESTAMP)
      THEN 24318
      WHEN "posted_at" < CAST('2026-09-01 00:00:00' AS TIMESTAMP)
      THEN 24319
      WHEN "posted_at" < CAST('2026-10-01 00:00:00' AS TIMESTAMP)
      THEN 24320
      WHEN "posted_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
      THEN 24321
    END AS __p
  FROM "social_posts" AS __source_rows
  WHERE
    "posted_at" >= CAST('2025-10-01 00:00:00' AS TIMESTAMP)
    AND "posted_at" < CAST('2026-11-01 00:00:00' AS TIMESTAMP)
) AS __rows
GROUP BY
  GROUPING SETS (
    (__rows."__p"),
    (__rows."__p", __rows."network")
  );

-- source `social_followers`: 1 KPI in 1 query (postgres)
-- query 1 of 1: no time column, months 2025-10 to 2026-10, window period; KPIs: social_follower_growth
SELECT
  __periods."__p" AS __p,
  CASE WHEN GROUPING(__rows."network") = 0 THEN 'network' END AS __dimension,
  CASE WHEN GROUPING(__rows."network") = 0 THEN CAST(__rows."network" AS VARCHAR) END AS __member,
  SUM(CAST(__rows."followers" AS DOUBLE PRECISION)) FILTER(WHERE
    (
      LEAST(
        CAST(__rows."date" AS TIMESTAMP) AT TIME ZONE 'Europe/Oslo',
        (
          CAST(__rows."date" AS TIMESTAMP) - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      ) < __periods."__pe"
      AND CAST((
        CAST(EXTRACT(EPOCH FROM __periods."__pe") * 1000000 AS BIGINT) - CAST(EXTRACT(EPOCH FROM LEAST(
          CAST(__rows."date" AS TIMESTAMP) AT TIME ZONE 'Europe/Oslo',
          (
            CAST(__rows."date" AS TIMESTAMP) - INTERVAL '1 HOUR'
          ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
        )) * 1000000 AS BIGINT)
      ) AS DOUBLE PRECISION) / 86400000000.0 < CAST(1.5 AS DOUBLE PRECISION)
    )) AS __a0_0,
  SUM(CAST(__rows."followers" AS DOUBLE PRECISION)) FILTER(WHERE
    (
      LEAST(
        CAST(__rows."date" AS TIMESTAMP) AT TIME ZONE 'Europe/Oslo',
        (
          CAST(__rows."date" AS TIMESTAMP) - INTERVAL '1 HOUR'
        ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
      ) < __periods."__ps"
      AND CAST((
        CAST(EXTRACT(EPOCH FROM __periods."__ps") * 1000000 AS BIGINT) - CAST(EXTRACT(EPOCH FROM LEAST(
          CAST(__rows."date" AS TIMESTAMP) AT TIME ZONE 'Europe/Oslo',
          (
            CAST(__rows."date" AS TIMESTAMP) - INTERVAL '1 HOUR'
          ) AT TIME ZONE 'Europe/Oslo' + INTERVAL '1 HOUR'
        )) * 1000000 AS BIGINT)
      ) AS DOUBLE PRECISION) / 86400000000.0 < CAST(1.5 AS DOUBLE PRECISION)
    )) AS __a0_1
FROM "social_followers" AS __rows
CROSS JOIN (VALUES
  (
    24309,
    NULL,
    NULL,
    CAST('2025-09-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2025-10-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24310,
    NULL,
    NULL,
    CAST('2025-10-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2025-11-30 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24311,
    NULL,
    NULL,
    CAST('2025-11-30 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2025-12-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24312,
    NULL,
    NULL,
    CAST('2025-12-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-01-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24313,
    NULL,
    NULL,
    CAST('2026-01-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-02-28 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(28.0 AS DOUBLE PRECISION)
  ),
  (
    24314,
    NULL,
    NULL,
    CAST('2026-02-28 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-03-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24315,
    NULL,
    NULL,
    CAST('2026-03-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-04-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24316,
    NULL,
    NULL,
    CAST('2026-04-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-05-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24317,
    NULL,
    NULL,
    CAST('2026-05-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-06-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24318,
    NULL,
    NULL,
    CAST('2026-06-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-07-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24319,
    NULL,
    NULL,
    CAST('2026-07-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-08-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  ),
  (
    24320,
    NULL,
    NULL,
    CAST('2026-08-31 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-09-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST(30.0 AS DOUBLE PRECISION)
  ),
  (
    24321,
    NULL,
    NULL,
    CAST('2026-09-30 22:00:00+00:00' AS TIMESTAMPTZ),
    CAST('2026-10-31 23:00:00+00:00' AS TIMESTAMPTZ),
    CAST(31.0 AS DOUBLE PRECISION)
  )) AS __periods(__p, __lo, __hi, __ps, __pe, __pd)
GROUP BY
  GROUPING SETS (
    (__periods."__p"),
    (__periods."__p", __rows."network")
  );
