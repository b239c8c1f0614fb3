-- langchain-postgres get_messages: every message of the session, oldest first (the caller keeps the last N).
SELECT message FROM peer_langchain."chat_history" WHERE session_id = :sid ORDER BY id;
