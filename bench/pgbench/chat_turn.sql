-- One chat turn as a bot makes it: the chat's session (created or reused), the user's message, the
-- context, the assistant's answer. Four calls, each its own transaction, as the client issues them.
\set u random(1, :users)
\set c random(1, :chats)
SELECT session_id AS sid FROM session_manager.get_or_create_session('user-' || :u, 'geral', 'turn-' || :c) \gset
SELECT message_id FROM session_manager.append_message(:sid, 'user', 'Quanto gastei com mercado este mês? Preciso fechar o orçamento da casa até sexta-feira.');
SELECT count(*) FROM session_manager.get_context(:sid, 50);
SELECT message_id FROM session_manager.append_message(:sid, 'assistant', 'Em novembro foram R$ 1.284,90 em mercado, 12% acima de outubro. Quer ver por loja?');
