-- Scratch variants of session_manager.touch_session, to find where a touch's time goes.
-- Each does what touch_session does against public."conversationSessions" (except the bare one,
-- which is the ceiling for any function: nothing but the UPDATE). Deployed into the benchmark's
-- database only; the package is never changed by the benchmark.
CREATE SCHEMA bench_variants;

-- 1. SECURITY INVOKER, nothing but the UPDATE: the ceiling for a PL/pgSQL function.
CREATE FUNCTION bench_variants.invoker_bare(session_id text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE public."conversationSessions" c SET "lastActivity" = now() WHERE c.id = invoker_bare.session_id;
  RETURN FOUND;
END
$$;

-- 1b. As 1, SECURITY DEFINER: what running with the owner's rights adds to a call.
CREATE FUNCTION bench_variants.definer_bare(session_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  UPDATE public."conversationSessions" c SET "lastActivity" = now() WHERE c.id = definer_bare.session_id;
  RETURN FOUND;
END
$$;

-- 1c. touch_session as deployed with its argument check moved off the hot path: the NULL / '' check
-- runs only when nothing was updated (a NULL id matches no row; c.id <> '' keeps an id '' from
-- matching one), so a touch that succeeds evaluates one PL/pgSQL expression fewer.
CREATE FUNCTION bench_variants.check_on_miss(session_id pg_catalog.text) RETURNS pg_catalog.bool
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  acting_user pg_catalog.text := session_manager.scoped_user();
BEGIN
  UPDATE public."conversationSessions" c
  SET "lastActivity" = pg_catalog.now()
  WHERE c.id OPERATOR(pg_catalog.=) check_on_miss.session_id
    AND c.id OPERATOR(pg_catalog.<>) ''
    AND c."isActive"
    AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) session_manager.cached_idle_timeout())
    AND c."lastActivity" OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) session_manager.cached_touch_resolution())
    AND (acting_user IS NULL OR c."userId" OPERATOR(pg_catalog.=) acting_user);
  IF FOUND THEN
    RETURN true;
  END IF;
  PERFORM session_manager.check_id(check_on_miss.session_id, 'session_id');
  RETURN EXISTS (
    SELECT 1 FROM public."conversationSessions" c
    WHERE c.id OPERATOR(pg_catalog.=) check_on_miss.session_id
      AND c."isActive"
      AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) session_manager.cached_idle_timeout())
      AND (acting_user IS NULL OR c."userId" OPERATOR(pg_catalog.=) acting_user));
END
$$;

-- 2. The package's design: SECURITY DEFINER with SET search_path, the settings row read on every call.
CREATE FUNCTION bench_variants.definer_set_read(session_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := nullif(current_setting('session_manager.user_id', true), '');
  idle interval;
  resolution interval;
BEGIN
  SELECT s.idle_timeout, s.touch_resolution INTO idle, resolution FROM session_manager.settings s;
  UPDATE public."conversationSessions" c SET "lastActivity" = now()
  WHERE c.id = definer_set_read.session_id AND c."isActive"
    AND c."lastActivity" >= now() - idle AND c."lastActivity" < now() - resolution
    AND (acting_user IS NULL OR c."userId" = acting_user);
  IF FOUND THEN RETURN true; END IF;
  RETURN EXISTS (SELECT 1 FROM public."conversationSessions" c WHERE c.id = definer_set_read.session_id
                 AND c."isActive" AND c."lastActivity" >= now() - idle
                 AND (acting_user IS NULL OR c."userId" = acting_user));
END
$$;

-- 3. As 2, settings as constants (the upper bound of any settings cache).
CREATE FUNCTION bench_variants.definer_set_const(session_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  acting_user text := nullif(current_setting('session_manager.user_id', true), '');
  idle interval := interval '1 day';
  resolution interval := interval '0';
BEGIN
  UPDATE public."conversationSessions" c SET "lastActivity" = now()
  WHERE c.id = definer_set_const.session_id AND c."isActive"
    AND c."lastActivity" >= now() - idle AND c."lastActivity" < now() - resolution
    AND (acting_user IS NULL OR c."userId" = acting_user);
  IF FOUND THEN RETURN true; END IF;
  RETURN EXISTS (SELECT 1 FROM public."conversationSessions" c WHERE c.id = definer_set_const.session_id
                 AND c."isActive" AND c."lastActivity" >= now() - idle
                 AND (acting_user IS NULL OR c."userId" = acting_user));
END
$$;

-- 4. SECURITY DEFINER without a SET clause: every relation, function and operator qualified
--    (nothing a caller puts in public or pg_temp can stand in; NULLIF resolves "=" by search_path,
--    so the empty user id is tested with OPERATOR(pg_catalog.=)); settings read on every call.
CREATE FUNCTION bench_variants.definer_qual_read(session_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  acting_user text := pg_catalog.current_setting('session_manager.user_id', true);
  idle interval;
  resolution interval;
BEGIN
  SELECT s.idle_timeout, s.touch_resolution INTO idle, resolution FROM session_manager.settings s;
  UPDATE public."conversationSessions" c SET "lastActivity" = pg_catalog.now()
  WHERE c.id OPERATOR(pg_catalog.=) definer_qual_read.session_id AND c."isActive"
    AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) idle)
    AND c."lastActivity" OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) resolution)
    AND (acting_user IS NULL OR acting_user OPERATOR(pg_catalog.=) '' OR c."userId" OPERATOR(pg_catalog.=) acting_user);
  IF FOUND THEN RETURN true; END IF;
  RETURN EXISTS (SELECT 1 FROM public."conversationSessions" c
                 WHERE c.id OPERATOR(pg_catalog.=) definer_qual_read.session_id AND c."isActive"
                   AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) idle)
                   AND (acting_user IS NULL OR acting_user OPERATOR(pg_catalog.=) '' OR c."userId" OPERATOR(pg_catalog.=) acting_user));
END
$$;

-- 5. As 4, settings as constants.
CREATE FUNCTION bench_variants.definer_qual_const(session_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  acting_user text := pg_catalog.current_setting('session_manager.user_id', true);
  idle interval := interval '1 day';
  resolution interval := interval '0';
BEGIN
  UPDATE public."conversationSessions" c SET "lastActivity" = pg_catalog.now()
  WHERE c.id OPERATOR(pg_catalog.=) definer_qual_const.session_id AND c."isActive"
    AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) idle)
    AND c."lastActivity" OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) resolution)
    AND (acting_user IS NULL OR acting_user OPERATOR(pg_catalog.=) '' OR c."userId" OPERATOR(pg_catalog.=) acting_user);
  IF FOUND THEN RETURN true; END IF;
  RETURN EXISTS (SELECT 1 FROM public."conversationSessions" c
                 WHERE c.id OPERATOR(pg_catalog.=) definer_qual_const.session_id AND c."isActive"
                   AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) idle)
                   AND (acting_user IS NULL OR acting_user OPERATOR(pg_catalog.=) '' OR c."userId" OPERATOR(pg_catalog.=) acting_user));
END
$$;

-- 6. As 4, but the settings row read inside the UPDATE (one statement per touch instead of two):
--    still reads the row on every call, so a plain UPDATE of the settings takes effect at once.
CREATE FUNCTION bench_variants.definer_qual_onestmt(session_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
  acting_user text := pg_catalog.current_setting('session_manager.user_id', true);
BEGIN
  UPDATE public."conversationSessions" c SET "lastActivity" = pg_catalog.now()
  FROM session_manager.settings s
  WHERE c.id OPERATOR(pg_catalog.=) definer_qual_onestmt.session_id AND c."isActive"
    AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) s.idle_timeout)
    AND c."lastActivity" OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) s.touch_resolution)
    AND (acting_user IS NULL OR acting_user OPERATOR(pg_catalog.=) '' OR c."userId" OPERATOR(pg_catalog.=) acting_user);
  IF FOUND THEN RETURN true; END IF;
  RETURN EXISTS (SELECT 1 FROM public."conversationSessions" c, session_manager.settings s
                 WHERE c.id OPERATOR(pg_catalog.=) definer_qual_onestmt.session_id AND c."isActive"
                   AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) s.idle_timeout)
                   AND (acting_user IS NULL OR acting_user OPERATOR(pg_catalog.=) '' OR c."userId" OPERATOR(pg_catalog.=) acting_user));
END
$$;

-- 7. LANGUAGE sql, SECURITY DEFINER, qualified, one statement (the settings row joined in).
CREATE FUNCTION bench_variants.sql_definer_qual(session_id text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER AS $$
  WITH cfg AS (
    SELECT s.idle_timeout, s.touch_resolution,
           pg_catalog.current_setting('session_manager.user_id', true) AS acting_user
    FROM session_manager.settings s
  ), live AS (
    SELECT c.id, (c."lastActivity" OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) cfg.touch_resolution)) AS due
    FROM public."conversationSessions" c, cfg
    WHERE c.id OPERATOR(pg_catalog.=) $1 AND c."isActive"
      AND c."lastActivity" OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) cfg.idle_timeout)
      AND (cfg.acting_user IS NULL OR cfg.acting_user OPERATOR(pg_catalog.=) '' OR c."userId" OPERATOR(pg_catalog.=) cfg.acting_user)
  ), touched AS (
    UPDATE public."conversationSessions" c SET "lastActivity" = pg_catalog.now()
    FROM live WHERE c.id OPERATOR(pg_catalog.=) live.id AND live.due
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM live)
$$;

-- Cleanup with one scan per run: the package's run_cleanup_job looks for each batch's candidates
-- afresh (a scan of the table per batch), so a run costs (batches x table). This one finds the
-- candidates once, then deactivates them batch by batch by primary key, each batch re-checking
-- the predicate and skipping locked rows, a COMMIT after each (the cursor is kept across COMMITs).
CREATE PROCEDURE bench_variants.cleanup_one_scan()
LANGUAGE plpgsql AS $$
DECLARE
  cfg session_manager.settings;
  ids text[];
BEGIN
  SELECT * INTO cfg FROM session_manager.settings;
  FOR ids IN
    SELECT pg_catalog.array_agg(x.id) FROM (
      SELECT c.id, (pg_catalog.row_number() OVER () OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) cfg.cleanup_batch_size AS b
      FROM public."conversationSessions" c
      WHERE c."isActive" AND c."lastActivity" OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) cfg.idle_timeout)) x
    GROUP BY x.b
  LOOP
    UPDATE public."conversationSessions" c SET "isActive" = false
    WHERE c.id IN (SELECT t.id FROM public."conversationSessions" t
                   WHERE t.id OPERATOR(pg_catalog.=) ANY (ids) AND t."isActive"
                     AND t."lastActivity" OPERATOR(pg_catalog.<) (pg_catalog.now() OPERATOR(pg_catalog.-) cfg.idle_timeout)
                   FOR NO KEY UPDATE OF t SKIP LOCKED);
    COMMIT;
  END LOOP;
END
$$;
