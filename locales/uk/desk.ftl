# Operator desk (the operator group). Operators read Ukrainian by default.

desk-topic-title = { $code } · { $stage ->
    [form] анкета
    [registered] зареєстровано
    [recall] повторне звернення
    [emergency] екстрено
    [meetup] зустріч
    [handoff] оператор
   *[other] звернення
}
desk-escalated = { $priority ->
    [highest] 🔴 Найвищий пріоритет
    [high] 🟠 Високий пріоритет
   *[other] 🟢 Звичайний пріоритет
}: { $reason ->
    [emergency] екстрена ситуація
    [recall] прибув на фронт і готовий здатися
    [operator] просить оператора
    [relatives] звернення родичів
    [legion] питання про Легіон
    [invalid] кілька разів поспіль неприйнятні відповіді
    [code] невдалі спроби коду
    [voice] голосове повідомлення
    [at-point] на місці зустрічі
    [help-now] просить термінової допомоги
   *[other] { $reason }
}
desk-queue = Черга: { $code } — { $priority ->
    [highest] найвищий
    [high] високий
   *[other] звичайний
} пріоритет ({ $reason })
desk-caller-edited = ✏️ Абонент змінив повідомлення; нова версія нижче.
desk-silent-alert = ⚠️ Тихий сигнал: { $reason ->
    [safety-word] абонент ужив слово безпеки — можливо, діє під тиском. Абонент нічого незвичного не бачить.
   *[other] { $reason }
}
desk-case-ended = Справу завершено: { $event ->
    [completed] зустріч відбулася
    [withdrawn] абонент відкликав звернення, дані стерто
    [erased] абонент стер свої дані
   *[other] { $event }
}
