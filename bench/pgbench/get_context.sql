SELECT * FROM session_manager.get_context(:sid, 50);
