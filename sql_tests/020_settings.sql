-- session_manager.settings: one row, typed columns, defaults, CHECK constraints.
BEGIN;
SELECT plan(21);
SELECT is((SELECT count(*)::int FROM session_manager.settings), 1, 'settings hold exactly one row');
SELECT is((SELECT idle_timeout FROM session_manager.settings), interval '30 minutes', 'idle_timeout defaults to 30 minutes');
SELECT is((SELECT context_messages FROM session_manager.settings), 50, 'context_messages defaults to 50');
SELECT is((SELECT touch_resolution FROM session_manager.settings), interval '0', 'touch_resolution defaults to 0');
SELECT is((SELECT agents FROM session_manager.settings), ARRAY['financeiro', 'max', 'geral'], 'agents default to financeiro, max, geral');
SELECT is((SELECT max_content_length FROM session_manager.settings), 65536, 'max_content_length defaults to 65536');
SELECT cmp_ok((SELECT cleanup_batch_size FROM session_manager.settings), '>', 0, 'cleanup_batch_size is positive');
SELECT throws_ok($$INSERT INTO session_manager.settings DEFAULT VALUES$$, '23505', NULL, 'a second row is refused');
SELECT throws_ok($$DELETE FROM session_manager.settings$$, '55000', NULL, 'the row cannot be deleted');
SELECT throws_ok($$TRUNCATE session_manager.settings$$, '55000', NULL, 'the table cannot be truncated');
SELECT throws_ok($$UPDATE session_manager.settings SET idle_timeout = '0'$$, '23514', NULL, 'a zero idle_timeout is refused');
SELECT throws_ok($$UPDATE session_manager.settings SET idle_timeout = '-1 mon 31 days'$$, '23514', NULL,
                 'an idle_timeout with a negative part is refused (its length would depend on the month)');
SELECT throws_ok($$UPDATE session_manager.settings SET context_messages = 0$$, '23514', NULL, 'a zero context_messages is refused');
SELECT throws_ok($$UPDATE session_manager.settings SET cleanup_batch_size = -1$$, '23514', NULL, 'a negative batch size is refused');
SELECT throws_ok($$UPDATE session_manager.settings SET touch_resolution = '1 hour'$$, '23514', NULL, 'a touch_resolution not below idle_timeout is refused');
-- Matched by its constraint's name (on Citus the message names the shard's): before that constraint the
-- pair was accepted, compared as 1 day below 2 days.
SELECT throws_like($$UPDATE session_manager.settings SET idle_timeout = '2 days', touch_resolution = '1 year -359 days'$$,
                   '%violates check constraint "settings_touch_resolution_one_sign%',
                 'a touch_resolution with a negative part is refused (compared as 1 day, applied to today''s date 6 days back)');
SELECT lives_ok($$UPDATE session_manager.settings SET idle_timeout = '2 days', touch_resolution = '1 day 2 hours'$$,
                'a touch_resolution of one sign below idle_timeout is taken');
SELECT throws_ok($$UPDATE session_manager.settings SET agents = ARRAY['geral', NULL]$$, '23514', NULL, 'a NULL agent is refused');
SELECT throws_ok($$UPDATE session_manager.settings SET idle_timeout = '10000 years'$$, '23514', NULL,
                 'an idle_timeout reaching past the calendar''s start is refused');
SELECT throws_ok($$UPDATE session_manager.settings SET retention = '10000 years'$$, '23514', NULL, 'so is such a retention');
SELECT lives_ok($$UPDATE session_manager.settings SET idle_timeout = '10 minutes', touch_resolution = '5 seconds'$$, 'a DBA changes settings with a plain UPDATE');
SELECT * FROM finish();
ROLLBACK;
