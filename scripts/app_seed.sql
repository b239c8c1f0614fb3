-- Existing application data: :users users with :sessions sessions between them, their
-- "updatedAt" spread over the last five days (so most are idle for hours or days).
-- psql variables: users, sessions (defaults 500 and 5000).
\if :{?users} \else \set users 500 \endif
\if :{?sessions} \else \set sessions 5000 \endif
INSERT INTO public."user" (id, email, name)
SELECT 'user-' || i, 'user' || i || '@example.com', 'User ' || i
FROM generate_series(1, :users) AS i
ON CONFLICT (id) DO NOTHING;

INSERT INTO public."conversationSessions" (id, "userId", agent, title, "createdAt", "updatedAt")
SELECT 'seed-' || i,
       'user-' || (1 + i % :users),
       (ARRAY['financeiro', 'max', 'geral'])[1 + i % 3],
       'Conversa ' || i,
       t - interval '1 hour',
       t
FROM generate_series(1, :sessions) AS i,
     LATERAL (SELECT (now() - (i % 7200) * interval '1 minute')::timestamp AS t) AS ts
ON CONFLICT (id) DO NOTHING;
