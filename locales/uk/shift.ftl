# The shift's own tools (bot/desk/canned.py, queue.py, shift.py, marks.py, strangers.py).
# Operators read these in OPERATOR_LANGUAGE; the canned-* messages go to callers, in theirs.

## Canned replies, sent to the caller in his language

canned-safe = Ви зараз у безпечному місці? Відповідайте одним словом: так чи ні.
canned-location = Надішліть, будь ласка, своє місцезнаходження: скріпка → «Геопозиція» → «Надіслати мою геопозицію». Якщо не виходить — напишіть найближчий населений пункт або орієнтир.
canned-stay = Залишайтеся на місці й не рухайтеся, доки ми не напишемо. Не виходьте на відкрите місце.
canned-drone = Ідіть за дроном: він покаже дорогу. Ідіть кроком, руки тримайте на виду, зброю не беріть.
canned-cloth = Візьміть білу тканину або пов’яжіть білу пов’язку на руку. Зброю залиште — не беріть її з собою. Руки тримайте на виду.
canned-contact = Ми зв’яжемося з вами о { $time }. Тримайте телефон при собі, якщо це безпечно.

## Canned replies as operators see them

desk-canned-word = { $name ->
    [safe] безпека
    [location] місце
    [stay] чекати
    [drone] дрон
    [cloth] біле
    [contact] контакт
   *[meet] зустріч
}
desk-canned-label = { $name ->
    [safe] 🛡 Ви в безпеці?
    [location] 📍 Надішліть місце
    [stay] ✋ Залишайтеся на місці
    [drone] 🛸 Ідіть за дроном
    [cloth] 🏳 Біла тканина, без зброї
    [contact] 🕓 Зв’яжемося о ЧАС
   *[meet] 📍 Інструкції зустрічі
}
desk-canned-args = { $name ->
    [contact] ЧАС
   *[meet] ЧАС | МІСЦЕ
}
desk-canned-list =
    💬 <b>Шаблони відповідей</b>: надсилаються абоненту його мовою, лише тим, хто веде справу (у темі справи, або кнопкою під карткою).
desk-canned-line = • /say { $word } — { $label }
desk-canned-line-args = • /say { $word } { $args } — { $label }
desk-canned-unknown = Немає такого шаблону. Список: /say
desk-canned-usage = Для цього шаблону потрібне значення: /say { $word } { $args }
desk-canned-sent = 📤 { $operator } надіслав абоненту шаблон «{ $label }»:

## /queue

desk-queue-head = 📋 <b>Відкриті звернення: { $count }</b> (за пріоритетом, потім за часом очікування)
desk-queue-empty = 📋 Відкритих звернень немає.
desk-queue-line = • { $code } — { desk-priority } · { desk-reason } · { $state ->
        [claimed] 🙋 { $operator }
       *[waiting] 🕓 чекає
    } · { $minutes } хв{ $mark ->
        [probe] {" "}· 🕵 можливий зонд
       *[none] {""}
    }
desk-queue-more = …і ще { $count }.

## /handover

desk-handover-usage = Передати справу: /handover N, де N — номер оператора у списку (від 1 до { $count }).
desk-handover-done = 🔁 { $from } передав справу: тепер її веде { $to }.

## /probe, /block

desk-mark-probe = 🕵 { $operator } позначив справу як можливий зонд: наступні звернення з її акаунтів матимуть звичайний пріоритет і цю позначку. Скасувати: /unprobe
desk-mark-unprobe = { $operator } зняв позначку «можливий зонд».
desk-mark-block = ⛔ { $operator } заблокував акаунти справи { $code }: бот відповідає їм як завжди, але звернень від них у групі більше не буде. Скасувати: /unblock у темі справи або /unblock { $code } будь-де в групі.
desk-mark-unblock = ✅ { $operator } розблокував акаунти справи { $code }.
desk-mark-none = Справа не має такої позначки.
desk-mark-already = Справа вже має цю позначку.
desk-mark-unknown = Немає заблокованої справи { $code }.
desk-card-mark = { $mark ->
    [probe] 🕵 Можливий зонд: позначив { $operator }, { $when }
   *[block] ⛔ Заблоковано: { $operator }, { $when }
}

## Strangers in the group

desk-stranger-removed = ⛔ До групи операторів приєднався { $name }, кого НЕМАЄ в списку операторів: його видалено з групи.
desk-stranger-not-removed = ⚠️ До групи операторів приєднався { $name }, кого НЕМАЄ в списку операторів. Видалити його не вдалося (бот не має права блокувати учасників): видаліть вручну.
desk-stranger-joined = ⚠️ До групи операторів приєднався { $name }, кого НЕМАЄ в списку операторів. Перевірте його й за потреби видаліть.

## The group's command menu

desk-cmd-say = [НАЗВА] — шаблон відповіді абоненту; без назви — список
desk-cmd-queue = відкриті звернення за пріоритетом і часом очікування
desk-cmd-handover = N — передати справу оператору N
desk-cmd-probe = позначити справу як можливий зонд
desk-cmd-unprobe = зняти позначку «можливий зонд»
desk-cmd-block = не пускати акаунти справи до групи (бот відповідає їм як завжди)
desk-cmd-unblock = [#СПРАВА] — зняти блокування

## What the card says of his situation (bot/desk/profile.py): never who he is, never where

desk-card-profile = Мова: { $language ->
        [uk] українська
       *[ru] російська
    } · людей: { $people ->
        [0] —
       *[other] { $people }
    } · поранення: { $injuries ->
        [none] немає
        [light] легкі
        [serious] ⚠️ тяжкі
        [described] описані словами (у даних)
       *[unknown] —
    } · звернувся: { $via ->
        [own] зі свого акаунта
        [linked] з іншого, прив’язаного акаунта
        [relatives] через форму для рідних
       *[new] ще без заявки
    }
desk-priority-raised = ⬆️ Пріоритет підвищено: { desk-priority } — { $why ->
        [injuries] тяжкі поранення
       *[group] група з { $people } людей
    }.

## One topic per case across its accounts (bot/desk/shared_topics.py)

desk-topic-now = 🔀 Тепер тема говорить із { $via ->
        [linked] <b>прив’язаним акаунтом</b> (назвав код і дату народження; якщо власник справи цього не підтверджував, це може бути зонд)
       *[own] <b>акаунтом, що зареєстрував справу</b>
    }: повідомлення операторів ідуть йому.
