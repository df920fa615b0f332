# Operator desk (the operator group), for operators who choose Russian (OPERATOR_LANGUAGE=ru).
# No message here may show personal data except desk-details, which only the claiming operator
# asks for and which is deleted after a few minutes.

desk-stage = { $stage ->
    [form] анкета
    [registered] зарегистрирован
    [recall] повторное обращение
    [emergency] экстренно
    [meetup] встреча
    [handoff] оператор
    [completed] завершено
    [relatives-form] анкета родных
    [relatives] обращение родных
   *[other] обращение
}
desk-priority = { $priority ->
    [highest] 🔴 наивысший
    [high] 🟠 высокий
    [normal] 🟢 обычный
   *[other] —
}
desk-reason = { $reason ->
    [emergency] экстренная ситуация
    [recall] прибыл на фронт и готов сдаться
    [operator] просит оператора
    [relatives] обращение родственников
    [legion] вопрос о Легионе
    [invalid] несколько неподходящих ответов подряд
    [code] неудачные попытки кода
    [voice] голосовое сообщение
    [at-point] на месте встречи
    [help-now] просит срочной помощи
    [none] без эскалации
   *[other] { $reason }
}
desk-alert = { $reason ->
    [safety-word] абонент использовал тревожное слово — возможно, действует под давлением. Абонент ничего необычного не видит.
   *[other] { $reason }
}

## Topics, cards and the queue

desk-topic-title = { $code } · { desk-stage }
desk-card =
    📁 <b>{ $code }</b> · { desk-stage }
    Состояние: { $state ->
        [waiting] 🕓 ждёт оператора
        [claimed] 🙋 в работе
        [completed] ✅ встреча состоялась, дело завершено
       *[closed] ⏸ без активного обращения
    }
    Приоритет: { desk-priority } · { desk-reason }
    Ждёт с: { $since ->
        [none] —
       *[other] { $since }
    }
    Ведёт: { $operator ->
        [none] —
       *[other] { $operator }
    }
    Проверено: { $verified ->
        [yes] ✅ да
       *[no] нет
    }
desk-card-alert = ⚠️ <b>Тихий сигнал</b>: { desk-alert }
desk-btn-claim = 🙋 Взять
desk-btn-release = ↩️ Отпустить
desk-btn-details = 🔒 Показать данные
desk-btn-verified = ✅ Проверено
desk-btn-meet = 📍 Инструкции встречи
desk-btn-met = 🤝 Встреча состоялась
desk-btn-abort = ⛔ Отменить встречу
desk-btn-close = ⏹ Закрыть
desk-btn-erase = 🗑 Стереть
desk-btn-confirm-met = ✔️ Да, встреча состоялась
desk-btn-confirm-erase = ✔️ Да, стереть всё
desk-btn-confirm-abort = ✔️ Да, отменить встречу
desk-btn-cancel = ✖️ Нет, назад
desk-btn-open-topic = Открыть тему дела
desk-escalated = { desk-priority } приоритет: { desk-reason }
desk-queue = 📥 <b>{ $code }</b> — { desk-priority } приоритет: { desk-reason }
desk-reannounce-emergency =
    🆘 <b>{ $code }</b> — ЭКСТРЕННО, всё ещё без оператора ({ $minutes } мин): { desk-reason }
    На смене: { $operators }
desk-digest = ⏰ <b>Ждут оператора: { $count }</b>
desk-digest-line = • { $code } — { desk-priority } · { desk-reason } · { $minutes } мин
desk-digest-more = …и ещё { $count }: /queue
desk-from-caller = 💬 <b>{ $kind ->
    [text] Абонент пишет:
    [button] Абонент нажал кнопку:
    [location] Абонент прислал местоположение
    [contact] Абонент поделился контактом
    [photo] Фото от абонента
    [video] Видео от абонента
    [voice] Голосовое сообщение абонента
    [video_note] Видеосообщение абонента (в ответе)
    [audio] Аудио от абонента
    [animation] Анимация от абонента
    [document] Файл от абонента
    [sticker] Стикер от абонента (в ответе)
    [edit] Абонент изменил сообщение; новая версия в ответе
   *[other] Сообщение абонента (в ответе)
}</b>
desk-caller-links = ⚠️ В сообщении есть ссылки: не открывайте их, пока не проверите, куда они ведут.
desk-caller-document = ⚠️ Файл прислал абонент: не открывайте его на рабочем устройстве, пока не проверите.
desk-caller-file-held = ⛔ Абонент прислал файл «{ $name }» ({ $type }). Исполняемые файлы и архивы в группу не копируются.
desk-caller-location = 📍 Местоположение — только в данных дела (🔒 Показать данные), не в теме.
desk-caller-contact = 📇 Номер — только в данных дела (🔒 Показать данные), не в теме.
desk-silent-alert = ⚠️ Тихий сигнал: { desk-alert }
desk-case-ended = ✅ Встреча состоялась: дело завершено, данные абонента стёрты.
desk-feed = { $code }: { $event ->
    [claimed] 🙋 взято в работу
    [meetup] 📍 перешёл к этапу встречи
    [completed] ✅ встреча состоялась, дело завершено
    [withdrawn] ↩️ абонент отозвал обращение, тема удалена
   *[erased] 🗑 данные стёрты, тема удалена
}

## Operators' actions

desk-operator = оператор { $n }
desk-claimed = 🙋 Дело взял { $operator }.
desk-released = ↩️ { $operator } отпустил дело; оно снова ждёт оператора.
desk-taken = Дело уже ведёт { $operator }.
desk-yours = Это дело уже у вас.
desk-claim-first = Сначала возьмите дело: /claim или кнопка «Взять».
desk-not-claimer = Дело ведёт { $operator }: действовать в нём и писать абоненту может только он.
desk-refused = ⛔ Вас нет в списке операторов: действие отклонено и записано.
desk-topic-only = Эта команда работает только в теме дела.
desk-no-case = В этой теме нет дела, с которым можно работать.
desk-not-now = Это действие нельзя выполнить на текущем этапе дела.
desk-done = { $operator }: { $action ->
    [verified] отметил дело как проверенное
    [meet] отправил инструкции встречи
    [met] встреча состоялась
    [abort] отменил встречу
    [close] закрыл обращение
   *[erase] стёр дело
}
desk-meet-usage = Отправьте в теме: /meet ВРЕМЯ | МЕСТО, напр. /meet 05:30 | лесополоса у трассы, 200 м на север
desk-confirm = Подтвердите кнопкой на карточке: { $action ->
    [met] встреча состоялась — дело будет завершено, данные стёрты.
    [abort] отменить встречу — абонент вернётся в меню или к своей заявке.
   *[erase] стереть дело и все данные абонента.
}
desk-confirm-typed = ⚠️ Этого не отменить. Подтвердите кнопкой ниже: { $action ->
    [met] встреча состоялась — дело будет завершено, данные стёрты.
    [abort] отменить встречу — абонент вернётся в меню или к своей заявке.
   *[erase] стереть дело и все данные абонента.
}
desk-details = 🔒 Данные дела <b>{ $code }</b> для: { $operator }. Сообщение будет удалено через { $minutes } мин.
desk-field = { $field ->
    [full_name] ФИО
    [birth_date] Дата рождения
    [unit] Часть
    [rank] Звание
    [service_number] Личный номер
    [people] Сколько человек
    [area] Направление
    [phone] Телефон
    [health] Здоровье
    [wish] После плена
    [case_code] Код дела
    [recall_location] Где сейчас
    [recall_people] Сколько человек сейчас
    [recall_injuries] Ранения сейчас
    [emergency_location] Где сейчас (экстренно)
    [emergency_people] Сколько человек (экстренно)
    [emergency_injuries] Ранения (экстренно)
    [sought_where] Где он, по словам родных
    [sought_name] ФИО разыскиваемого
    [sought_birth] Его дата рождения
    [sought_unit] Его часть
    [last_seen] Последний раз на связи
    [asker] Кто обратился
    [reply_to] Как ответить
    [shared_location] Где он (прислал в разговоре)
    [shared_phone] Его номер (прислал в разговоре)
    [shared_contact] Контакт, которым он поделился
   *[other] { $field }
}
desk-details-sent = 🔒 Данные отправлены вам в личный чат с ботом; они будут удалены через { $minutes } мин.
desk-details-start-bot = ⚠️ Данные не отправлены: бот не может написать вам лично. Откройте чат с @{ $bot }, нажмите «Start» и попробуйте ещё раз. В теме данные не показываются никогда.
desk-details-empty = Абонент ещё не оставил данных.
desk-stats =
    📊 Открытые обращения: { $open } (ждут: { $waiting }, в работе: { $claimed })
    Сегодня взято в работу: { $claims }; медиана времени до взятия: { $claims ->
        [0] —
       *[other] { $minutes } мин { $seconds } с
    }
desk-stats-stage = • { desk-stage }: { $count }
desk-member-joined = { $listed ->
    [yes] ℹ️ В группу вошёл оператор из списка.
   *[no] ⚠️ В группу операторов вошёл кто-то, кого НЕТ в списке операторов. Проверьте его и при необходимости удалите.
}
desk-help =
    Команды в теме дела:
    /claim — взять дело · /release — отпустить
    /details — показать данные (только тому, кто ведёт дело)
    /verified — отметить проверенным
    /meet ВРЕМЯ | МЕСТО — отправить инструкции встречи
    /met — встреча состоялась · /abort — отменить встречу
    /close — закрыть обращение · /erase — стереть дело
    /unlock — разблокировать привязку после неудачных проверок кода
    Строка, начинающаяся с «!», — внутренняя заметка: абоненту не отправляется.
    /say — шаблоны ответов абоненту на его языке · /handover N — передать дело оператору N
    /probe — возможный зонд · /block — не пускать его аккаунты в группу (/unprobe, /unblock)
    Где угодно в группе: /stats — открытые обращения и время до взятия сегодня; /queue — открытые обращения по приоритету.
desk-relay-failed = ⚠️ Не удалось доставить сообщение абоненту.
desk-stale = Эта кнопка больше не действует.
desk-case-gone = Дела больше нет: данные стёрты или истёк срок хранения.
desk-not-waiting = ⏸ Дело сейчас никого не ждёт: обращение закрыто, поэтому взять его или писать абоненту нельзя. Когда абонент обратится снова, тема откроется.
desk-relay-ended = ⚠️ Абоненту ничего не отправлено: дело завершено или разговор с ним уже закончился.
desk-caller-left = ↩️ { $stage ->
    [meetup] Абонент сам отменил встречу.
   *[other] Абонент сам вышел из разговора с оператором.
} Обращение закрыто.
desk-talk = 💬 Абонент теперь пишет вам: его { $stage ->
    [form] анкета ждёт на том же шаге.
   *[other] текущий шаг ждёт.
} Как только он нажмёт «Продолжить», его сообщения снова пойдут боту.
desk-talk-back = ↩️ Абонент вернулся к своему шагу: написанное им теперь отвечает боту, а ваши сообщения по-прежнему доходят до него.

## Shown to the caller, in the caller's language: an operator corrected a message

desk-relay-correction = ✏️ Исправление:

## Links to a case from other accounts, failed checks, probes (bot.desk.linking)

desk-card-links = 🔗 Привязки с других аккаунтов: { $linked } · отвязано: { $unlinked } · неудачных проверок: { $failed }{ $locked ->
    [yes] · 🔒 привязка заблокирована
   *[no] {""}
}
desk-link-linked = 🔗 Другой аккаунт назвал код и дату рождения: он привязан к делу. Если абонент этого не подтверждает — это может быть зонд.
desk-link-unlinked = 🔗 Привязанный аккаунт стёр свой разговор (/forget): дело владельца не изменилось.
desk-link-withdraw-request = 🔗 Привязанный аккаунт просит отозвать дело. Сам он этого сделать не может: если владелец подтверждает — «Стереть», иначе ничего не делайте.
desk-link-failed = ⚠️ Кто-то, кто знает код дела, не прошёл проверку даты рождения ({ $count } из { $limit }).
desk-link-locked = 🚨 <b>Высокий приоритет</b>: кто-то, кто знает код, не прошёл проверку { $count } раз(а). Привязка дела заблокирована, пока оператор не разблокирует. Дело владельца не изменилось.
desk-link-unlocked = 🔓 { $operator } разблокировал привязку дела.
desk-btn-unlock = 🔓 Разблокировать привязку
desk-queue-locked = 🚨 <b>{ $code }</b> — 🟠 высокий приоритет: код дела известен кому-то, кто { $count } раз(а) не прошёл проверку. Привязка заблокирована.
desk-probe-campaign = 🚨 <b>Возможная кампания зондирования</b>: { $count } неудачных проверок кода или даты за последние { $minutes } мин.
desk-record-damaged = 🚨 Сохранённая запись не открывается ({ $reason }): повреждена или запечатана ключом, которого уже нет. Абоненту сказано попробовать позже; проверьте ключи.
