# Operator desk (the operator group), for operators who choose Russian.

desk-topic-title = { $code } · { $stage ->
    [form] анкета
    [registered] зарегистрирован
    [recall] повторное обращение
    [emergency] экстренно
    [meetup] встреча
    [handoff] оператор
   *[other] обращение
}
desk-escalated = { $priority ->
    [highest] 🔴 Наивысший приоритет
    [high] 🟠 Высокий приоритет
   *[other] 🟢 Обычный приоритет
}: { $reason ->
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
   *[other] { $reason }
}
desk-queue = Очередь: { $code } — { $priority ->
    [highest] наивысший
    [high] высокий
   *[other] обычный
} приоритет ({ $reason })
desk-caller-edited = ✏️ Абонент изменил сообщение; новая версия ниже.
desk-silent-alert = ⚠️ Тихий сигнал: { $reason ->
    [safety-word] абонент использовал слово безопасности — возможно, действует под давлением. Абонент ничего необычного не видит.
   *[other] { $reason }
}
desk-case-ended = Дело завершено: { $event ->
    [completed] встреча состоялась
    [withdrawn] абонент отозвал обращение, данные стёрты
    [erased] абонент стёр свои данные
   *[other] { $event }
}
