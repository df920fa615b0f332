# Operator desk (the operator group). Operators read Ukrainian by default (OPERATOR_LANGUAGE).
# No message here may show personal data except desk-details, which only the claiming operator
# asks for and which is deleted after a few minutes.

desk-stage = { $stage ->
    [form] анкета
    [registered] зареєстровано
    [recall] повторне звернення
    [emergency] екстрено
    [meetup] зустріч
    [handoff] оператор
    [completed] завершено
    [relatives-form] анкета рідних
    [relatives] звернення рідних
   *[other] звернення
}
desk-priority = { $priority ->
    [highest] 🔴 найвищий
    [high] 🟠 високий
    [normal] 🟢 звичайний
   *[other] —
}
desk-reason = { $reason ->
    [emergency] екстрена ситуація
    [recall] прибув на фронт і готовий здатися
    [operator] просить оператора
    [relatives] звернення родичів
    [legion] питання про Легіон
    [invalid] кілька неприйнятних відповідей поспіль
    [code] невдалі спроби коду
    [voice] голосове повідомлення
    [at-point] на місці зустрічі
    [help-now] просить термінової допомоги
    [none] без ескалації
   *[other] { $reason }
}
desk-alert = { $reason ->
    [safety-word] абонент ужив тривожне слово — можливо, діє під тиском. Абонент нічого незвичного не бачить.
   *[other] { $reason }
}

## Topics, cards and the queue

desk-topic-title = { $code } · { desk-stage }
desk-card =
    📁 <b>{ $code }</b> · { desk-stage }
    Стан: { $state ->
        [waiting] 🕓 чекає оператора
        [claimed] 🙋 у роботі
        [completed] ✅ зустріч відбулася, справу завершено
       *[closed] ⏸ без активного звернення
    }
    Пріоритет: { desk-priority } · { desk-reason }
    Чекає з: { $since ->
        [none] —
       *[other] { $since }
    }
    Веде: { $operator ->
        [none] —
       *[other] { $operator }
    }
    Перевірено: { $verified ->
        [yes] ✅ так
       *[no] ні
    }
desk-card-alert = ⚠️ <b>Тихий сигнал</b>: { desk-alert }
desk-btn-claim = 🙋 Взяти
desk-btn-release = ↩️ Звільнити
desk-btn-details = 🔒 Показати дані
desk-btn-verified = ✅ Перевірено
desk-btn-meet = 📍 Інструкції зустрічі
desk-btn-met = 🤝 Зустріч відбулася
desk-btn-abort = ⛔ Скасувати зустріч
desk-btn-close = ⏹ Закрити
desk-btn-erase = 🗑 Стерти
desk-btn-confirm-met = ✔️ Так, зустріч відбулася
desk-btn-confirm-erase = ✔️ Так, стерти все
desk-btn-confirm-abort = ✔️ Так, скасувати зустріч
desk-btn-cancel = ✖️ Ні, назад
desk-btn-open-topic = Відкрити тему справи
desk-escalated = { desk-priority } пріоритет: { desk-reason }
desk-queue = 📥 <b>{ $code }</b> — { desk-priority } пріоритет: { desk-reason }
desk-reannounce-emergency =
    🆘 <b>{ $code }</b> — ЕКСТРЕНО, досі без оператора ({ $minutes } хв): { desk-reason }
    На зміні: { $operators }
desk-digest = ⏰ <b>Чекають оператора: { $count }</b>
desk-digest-line = • { $code } — { desk-priority } · { desk-reason } · { $minutes } хв
desk-digest-more = …і ще { $count }: /queue
desk-from-caller = 💬 <b>{ $kind ->
    [text] Абонент пише:
    [button] Абонент натиснув кнопку:
    [location] Абонент надіслав місцезнаходження
    [contact] Абонент поділився контактом
    [photo] Фото від абонента
    [video] Відео від абонента
    [voice] Голосове повідомлення абонента
    [video_note] Відеоповідомлення абонента (у відповіді)
    [audio] Аудіо від абонента
    [animation] Анімація від абонента
    [document] Файл від абонента
    [sticker] Стікер від абонента (у відповіді)
    [edit] Абонент змінив повідомлення; нова версія у відповіді
   *[other] Повідомлення абонента (у відповіді)
}</b>
desk-caller-links = ⚠️ У повідомленні є посилання: не відкривайте їх, доки не перевірите, куди вони ведуть.
desk-caller-document = ⚠️ Файл надіслав абонент: не відкривайте його на робочому пристрої, доки не перевірите.
desk-caller-file-held = ⛔ Абонент надіслав файл «{ $name }» ({ $type }). Виконувані файли й архіви в групу не копіюються.
desk-caller-location = 📍 Місцезнаходження — лише в даних справи (🔒 Показати дані), не в темі.
desk-caller-contact = 📇 Номер — лише в даних справи (🔒 Показати дані), не в темі.
desk-silent-alert = ⚠️ Тихий сигнал: { desk-alert }
desk-case-ended = ✅ Зустріч відбулася: справу завершено, дані абонента стерто.
desk-feed = { $code }: { $event ->
    [claimed] 🙋 взято в роботу
    [meetup] 📍 перейшов до етапу зустрічі
    [completed] ✅ зустріч відбулася, справу завершено
    [withdrawn] ↩️ абонент відкликав звернення, тему видалено
   *[erased] 🗑 дані стерто, тему видалено
}

## Operators' actions

desk-operator = оператор { $n }
desk-claimed = 🙋 Справу взяв { $operator }.
desk-released = ↩️ { $operator } звільнив справу; вона знову чекає оператора.
desk-taken = Справу вже веде { $operator }.
desk-yours = Ця справа вже у вас.
desk-claim-first = Спершу візьміть справу: /claim або кнопка «Взяти».
desk-not-claimer = Справу веде { $operator }: діяти в ній і писати абоненту може лише він.
desk-refused = ⛔ Вас немає в списку операторів: дію відхилено й записано.
desk-topic-only = Ця команда працює лише в темі справи.
desk-no-case = У цій темі немає справи, з якою можна працювати.
desk-not-now = Цю дію не можна виконати на поточному етапі справи.
desk-done = { $operator }: { $action ->
    [verified] позначив справу як перевірену
    [meet] надіслав інструкції зустрічі
    [met] зустріч відбулася
    [abort] скасував зустріч
    [close] закрив звернення
   *[erase] стер справу
}
desk-meet-usage = Надішліть у темі: /meet ЧАС | МІСЦЕ, напр. /meet 05:30 | лісосмуга біля траси, 200 м на північ
desk-confirm = Підтвердіть кнопкою на картці: { $action ->
    [met] зустріч відбулася — справу буде завершено, дані стерто.
    [abort] скасувати зустріч — абонент повернеться до меню або своєї заявки.
   *[erase] стерти справу й усі дані абонента.
}
desk-confirm-typed = ⚠️ Цього не скасувати. Підтвердіть кнопкою нижче: { $action ->
    [met] зустріч відбулася — справу буде завершено, дані стерто.
    [abort] скасувати зустріч — абонент повернеться до меню або своєї заявки.
   *[erase] стерти справу й усі дані абонента.
}
desk-details = 🔒 Дані справи <b>{ $code }</b> для: { $operator }. Повідомлення буде видалено за { $minutes } хв.
desk-field = { $field ->
    [full_name] ПІБ
    [birth_date] Дата народження
    [unit] Частина
    [rank] Звання
    [service_number] Особистий номер
    [people] Скільки людей
    [area] Напрямок
    [phone] Телефон
    [health] Здоров’я
    [wish] Після полону
    [case_code] Код справи
    [recall_location] Де зараз
    [recall_people] Скільки людей зараз
    [recall_injuries] Поранення зараз
    [emergency_location] Де зараз (екстрено)
    [emergency_people] Скільки людей (екстрено)
    [emergency_injuries] Поранення (екстрено)
    [sought_where] Де він, за словами рідних
    [sought_name] ПІБ того, кого шукають
    [sought_birth] Його дата народження
    [sought_unit] Його частина
    [last_seen] Востаннє на зв’язку
    [asker] Хто звернувся
    [reply_to] Як відповісти
    [shared_location] Де він (надіслав у розмові)
    [shared_phone] Його номер (надіслав у розмові)
    [shared_contact] Контакт, яким він поділився
   *[other] { $field }
}
desk-details-sent = 🔒 Дані надіслано вам в особистий чат із ботом; їх буде видалено за { $minutes } хв.
desk-details-start-bot = ⚠️ Даних не надіслано: бот не може написати вам особисто. Відкрийте чат із @{ $bot }, натисніть «Start» і спробуйте ще раз. У темі дані не показуються ніколи.
desk-details-empty = Абонент ще не залишив даних.
desk-stats =
    📊 Відкриті звернення: { $open } (чекають: { $waiting }, у роботі: { $claimed })
    Сьогодні взято в роботу: { $claims }; медіана часу до взяття: { $claims ->
        [0] —
       *[other] { $minutes } хв { $seconds } с
    }
desk-stats-stage = • { desk-stage }: { $count }
desk-member-joined = { $listed ->
    [yes] ℹ️ До групи приєднався оператор зі списку.
   *[no] ⚠️ До групи операторів приєднався хтось, кого НЕМАЄ в списку операторів. Перевірте його й за потреби видаліть.
}
desk-help =
    Команди в темі справи:
    /claim — взяти справу · /release — звільнити
    /details — показати дані (лише тому, хто веде справу)
    /verified — позначити перевіреною
    /meet ЧАС | МІСЦЕ — надіслати інструкції зустрічі
    /met — зустріч відбулася · /abort — скасувати зустріч
    /close — закрити звернення · /erase — стерти справу
    /unlock — розблокувати прив’язку після невдалих перевірок коду
    Рядок, що починається з «!», — внутрішня нотатка: абоненту не надсилається.
    /say — шаблони відповідей абоненту його мовою · /handover N — передати справу оператору N
    /probe — можливий зонд · /block — не пускати його акаунти до групи (/unprobe, /unblock)
    Будь-де в групі: /stats — відкриті звернення й час до взяття сьогодні; /queue — відкриті звернення за пріоритетом.
desk-relay-failed = ⚠️ Не вдалося доставити повідомлення абоненту.
desk-stale = Ця кнопка більше не діє.
desk-case-gone = Справи більше немає: дані стерто або минув строк зберігання.
desk-not-waiting = ⏸ Справа зараз нікого не чекає: звернення закрито, тож узяти її чи писати абоненту не можна. Коли абонент звернеться знову, тема відкриється.
desk-relay-ended = ⚠️ Абоненту нічого не надіслано: справу завершено або розмова з ним уже закінчилася.
desk-caller-left = ↩️ { $stage ->
    [meetup] Абонент сам скасував зустріч.
   *[other] Абонент сам вийшов із розмови з оператором.
} Звернення закрито.
desk-talk = 💬 Абонент тепер пише вам: його { $stage ->
    [form] анкета чекає на тому ж кроці.
   *[other] поточний крок чекає.
} Щойно він натисне «Продовжити», його повідомлення знову йтимуть у бота.
desk-talk-back = ↩️ Абонент повернувся до свого кроку: написане ним тепер відповідає боту, а ваші повідомлення й далі доходять до нього.

## Shown to the caller, in the caller's language: an operator corrected a message

desk-relay-correction = ✏️ Виправлення:

## Links to a case from other accounts, failed checks, probes (bot.desk.linking)

desk-card-links = 🔗 Прив’язки з інших акаунтів: { $linked } · відв’язано: { $unlinked } · невдалих перевірок: { $failed }{ $locked ->
    [yes] · 🔒 прив’язку заблоковано
   *[no] {""}
}
desk-link-linked = 🔗 Інший акаунт назвав код і дату народження: його прив’язано до справи. Якщо абонент цього не підтверджує — це може бути зонд.
desk-link-unlinked = 🔗 Прив’язаний акаунт стер свою розмову (/forget): справа власника не змінилася.
desk-link-withdraw-request = 🔗 Прив’язаний акаунт просить відкликати справу. Сам він цього зробити не може: якщо власник підтверджує — «Стерти», інакше нічого не робіть.
desk-link-failed = ⚠️ Хтось, хто знає код справи, не пройшов перевірку дати народження ({ $count } з { $limit }).
desk-link-locked = 🚨 <b>Високий пріоритет</b>: хтось, хто знає код, не пройшов перевірку { $count } раз(и). Прив’язку справи заблоковано, доки оператор не розблокує. Справа власника не змінилася.
desk-link-unlocked = 🔓 { $operator } розблокував прив’язку справи.
desk-btn-unlock = 🔓 Розблокувати прив’язку
desk-queue-locked = 🚨 <b>{ $code }</b> — 🟠 високий приоритет: код справи відомий комусь, хто { $count } раз(и) не пройшов перевірку. Прив’язку заблоковано.
desk-probe-campaign = 🚨 <b>Можлива кампанія зондування</b>: { $count } невдалих перевірок коду чи дати за останні { $minutes } хв.
desk-record-damaged = 🚨 Збережений запис не відкривається ({ $reason }): пошкоджено або запечатано ключем, якого вже немає. Абоненту сказано спробувати пізніше; перевірте ключі.
