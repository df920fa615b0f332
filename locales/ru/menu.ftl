## The operator group's command menu (Telegram shows each next to its /command)

desk-cmd-claim = Взять дело этой темы
desk-cmd-release = Отпустить дело
desk-cmd-details = Показать данные абонента (только тому, кто ведёт дело)
desk-cmd-verified = Отметить дело проверенным
desk-cmd-meet = ВРЕМЯ | МЕСТО — отправить инструкции встречи
desk-cmd-met = Встреча состоялась
desk-cmd-abort = Отменить встречу
desk-cmd-close = Закрыть обращение
desk-cmd-erase = Стереть дело
desk-cmd-unlock = Разблокировать привязку дела после неудачных проверок кода
desk-cmd-stats = Открытые обращения и время до взятия сегодня
desk-cmd-help = Команды операторов
