-- Objects a caller plants in public or pg_temp cannot change what the functions do.
BEGIN;
SELECT plan(9);
\ir fixtures/chat.sql
-- A function, an operator and tables that shadow what the package uses, if it resolved names
-- through the caller's search_path.
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT timestamptz '2000-01-01' $$;
CREATE FUNCTION public.hijack_text_eq(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijack_text_eq);
CREATE TABLE public.settings (idle_timeout interval, touch_resolution interval);
INSERT INTO public.settings VALUES ('100 years', '0');
CREATE TEMP TABLE "conversationSessions" (id text, "isActive" boolean, "lastActivity" timestamptz, "userId" text);
CREATE TEMP TABLE settings (idle_timeout interval, touch_resolution interval, cleanup_batch_size integer);
INSERT INTO pg_temp.settings VALUES ('1 second', '0', 1);
CREATE TEMP TABLE outcome (step text PRIMARY KEY, value text);
-- Call the functions with the planted objects first on the search_path; assert afterwards
-- (pgTAP itself would be fooled by the planted = operator).
-- Temporary tables named after types: their row types shadow an unqualified text or interval.
CREATE TEMP TABLE "text" (x int);
CREATE TEMP TABLE "interval" (x int);
CREATE TEMP TABLE "bool" (x int);
SET LOCAL search_path = pg_temp, public, pg_catalog;
INSERT INTO pg_temp.outcome VALUES ('touch live', session_manager.touch_session('live')::pg_catalog.text);
INSERT INTO pg_temp.outcome VALUES ('touch many', session_manager.touch_sessions(ARRAY['live', 'edge', 'stale', 'nope'])::pg_catalog.text);
INSERT INTO pg_temp.outcome VALUES ('touch stale', session_manager.touch_session('stale')::pg_catalog.text);
INSERT INTO pg_temp.outcome VALUES ('touch nope', session_manager.touch_session('nope')::pg_catalog.text);
INSERT INTO pg_temp.outcome VALUES ('cleanup', session_manager.cleanup_old_sessions()::pg_catalog.text);
INSERT INTO pg_temp.outcome VALUES ('reuse', (session_manager.get_or_create_session('u1', 'geral', 'chat-live')).session_id);
INSERT INTO pg_temp.outcome SELECT 'context', pg_catalog.count(*)::pg_catalog.text FROM session_manager.get_context('other');
RESET search_path;
DROP TABLE pg_temp."text", pg_temp."interval", pg_temp."bool";

SELECT is((SELECT value FROM outcome WHERE step = 'touch live'), 'true', 'a touch still finds the real session');
SELECT is((SELECT "lastActivity" FROM public."conversationSessions" WHERE id = 'live'), now(),
          'and sets the real now(), not the planted one');
SELECT is((SELECT value FROM outcome WHERE step = 'touch many'), '2', 'touch_sessions counts the real live sessions');
SELECT is((SELECT value FROM outcome WHERE step = 'touch stale'), 'false', 'the real idle_timeout applies, not a planted settings table');
SELECT is((SELECT value FROM outcome WHERE step = 'touch nope'), 'false', 'the planted = operator does not make an unknown id match');
SELECT is((SELECT value FROM outcome WHERE step = 'cleanup'), '2', 'cleanup counts the real idle sessions');
SELECT is((SELECT count(*)::int FROM pg_temp."conversationSessions"), 0, 'the planted temp table was not written');
SELECT is((SELECT value FROM outcome WHERE step = 'reuse'), 'live', 'get_or_create still reuses the real session');
SELECT is((SELECT value FROM outcome WHERE step = 'context'), '0', 'get_context reads the real, empty history');
SELECT * FROM finish();
ROLLBACK;
