# The shift's own tools (bot/desk/canned.py, queue.py, shift.py, marks.py, strangers.py).
# Operators read these in OPERATOR_LANGUAGE; the canned-* messages go to callers, in theirs.

## Canned replies, sent to the caller in his language

canned-safe = Вы сейчас в безопасном месте? Ответьте одним словом: да или нет.
canned-location = Пришлите, пожалуйста, своё местоположение: скрепка → «Геопозиция» → «Отправить мою геопозицию». Если не получается — напишите ближайший населённый пункт или ориентир.
canned-stay = Оставайтесь на месте и не двигайтесь, пока мы не напишем. Не выходите на открытое место.
canned-drone = Идите за дроном: он покажет дорогу. Идите шагом, руки держите на виду, оружие не берите.
canned-cloth = Возьмите белую ткань или повяжите белую повязку на руку. Оружие оставьте — не берите его с собой. Руки держите на виду.
canned-contact = Мы свяжемся с вами в { $time }. Держите телефон при себе, если это безопасно.

## Canned replies as operators see them

desk-canned-word = { $name ->
    [safe] безопасно
    [location] место
    [stay] ждать
    [drone] дрон
    [cloth] белое
    [contact] связь
   *[meet] встреча
}
desk-canned-label = { $name ->
    [safe] 🛡 Вы в безопасности?
    [location] 📍 Пришлите место
    [stay] ✋ Оставайтесь на месте
    [drone] 🛸 Идите за дроном
    [cloth] 🏳 Белая ткань, без оружия
    [contact] 🕓 Свяжемся в ВРЕМЯ
   *[meet] 📍 Инструкции встречи
}
desk-canned-args = { $name ->
    [contact] ВРЕМЯ
   *[meet] ВРЕМЯ | МЕСТО
}
desk-canned-list =
    💬 <b>Шаблоны ответов</b>: отправляются абоненту на его языке, только тем, кто ведёт дело (в теме дела или кнопкой под карточкой).
desk-canned-line = • /say { $word } — { $label }
desk-canned-line-args = • /say { $word } { $args } — { $label }
desk-canned-unknown = Нет такого шаблона. Список: /say
desk-canned-usage = Для этого шаблона нужно значение: /say { $word } { $args }
desk-canned-sent = 📤 { $operator } отправил абоненту шаблон «{ $label }»:

## /queue

desk-queue-head = 📋 <b>Открытые обращения: { $count }</b> (по приоритету, затем по времени ожидания)
desk-queue-empty = 📋 Открытых обращений нет.
desk-queue-line = • { $code } — { desk-priority } · { desk-reason } · { $state ->
        [claimed] 🙋 { $operator }
       *[waiting] 🕓 ждёт
    } · { $minutes } мин{ $mark ->
        [probe] {" "}· 🕵 возможный зонд
       *[none] {""}
    }
desk-queue-more = …и ещё { $count }.

## /handover

desk-handover-usage = Передать дело: /handover N, где N — номер оператора в списке (от 1 до { $count }).
desk-handover-done = 🔁 { $from } передал дело: теперь его ведёт { $to }.

## /probe, /block

desk-mark-probe = 🕵 { $operator } отметил дело как возможный зонд: следующие обращения с его аккаунтов получат обычный приоритет и эту отметку. Отменить: /unprobe
desk-mark-unprobe = { $operator } снял отметку «возможный зонд».
desk-mark-block = ⛔ { $operator } заблокировал аккаунты дела { $code }: бот отвечает им как всегда, но обращений от них в группе больше не будет. Отменить: /unblock в теме дела или /unblock { $code } в любом месте группы.
desk-mark-unblock = ✅ { $operator } разблокировал аккаунты дела { $code }.
desk-mark-none = У дела нет такой отметки.
desk-mark-already = У дела уже есть эта отметка.
desk-mark-unknown = Нет заблокированного дела { $code }.
desk-card-mark = { $mark ->
    [probe] 🕵 Возможный зонд: отметил { $operator }, { $when }
   *[block] ⛔ Заблокировано: { $operator }, { $when }
}

## Strangers in the group

desk-stranger-removed = ⛔ В группу операторов вошёл { $name }, которого НЕТ в списке операторов: он удалён из группы.
desk-stranger-not-removed = ⚠️ В группу операторов вошёл { $name }, которого НЕТ в списке операторов. Удалить его не удалось (у бота нет права блокировать участников): удалите вручную.
desk-stranger-joined = ⚠️ В группу операторов вошёл { $name }, которого НЕТ в списке операторов. Проверьте его и при необходимости удалите.

## The group's command menu

desk-cmd-say = [НАЗВАНИЕ] — шаблон ответа абоненту; без названия — список
desk-cmd-queue = открытые обращения по приоритету и времени ожидания
desk-cmd-handover = N — передать дело оператору N
desk-cmd-probe = отметить дело как возможный зонд
desk-cmd-unprobe = снять отметку «возможный зонд»
desk-cmd-block = не пускать аккаунты дела в группу (бот отвечает им как всегда)
desk-cmd-unblock = [#ДЕЛО] — снять блокировку

## What the card says of his situation (bot/desk/profile.py): never who he is, never where

desk-card-profile = Язык: { $language ->
        [uk] украинский
       *[ru] русский
    } · человек: { $people ->
        [0] —
       *[other] { $people }
    } · ранения: { $injuries ->
        [none] нет
        [light] лёгкие
        [serious] ⚠️ тяжёлые
        [described] описаны словами (в данных)
       *[unknown] —
    } · обратился: { $via ->
        [own] со своего аккаунта
        [linked] с другого, привязанного аккаунта
        [relatives] через форму для родных
       *[new] ещё без заявки
    }
desk-priority-raised = ⬆️ Приоритет повышен: { desk-priority } — { $why ->
        [injuries] тяжёлые ранения
       *[group] группа из { $people } человек
    }.

## One topic per case across its accounts (bot/desk/shared_topics.py)

desk-topic-now = 🔀 Теперь тема говорит с { $via ->
        [linked] <b>привязанным аккаунтом</b> (назвал код и дату рождения; если владелец дела этого не подтверждал, это может быть зонд)
       *[own] <b>аккаунтом, который зарегистрировал дело</b>
    }: сообщения операторов идут ему.
