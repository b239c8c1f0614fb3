SELECT * FROM session_manager.append_message(:sid, 'user', 'Quanto gastei com mercado este mês? Preciso fechar o orçamento da casa até sexta-feira, me ajuda a ver as categorias?');
