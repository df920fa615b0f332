## The operator group's command menu (Telegram shows each next to its /command)

desk-cmd-claim = Взяти справу цієї теми
desk-cmd-release = Звільнити справу
desk-cmd-details = Показати дані абонента (лише тому, хто веде справу)
desk-cmd-verified = Позначити справу перевіреною
desk-cmd-meet = ЧАС | МІСЦЕ — надіслати інструкції зустрічі
desk-cmd-met = Зустріч відбулася
desk-cmd-abort = Скасувати зустріч
desk-cmd-close = Закрити звернення
desk-cmd-erase = Стерти справу
desk-cmd-unlock = Розблокувати прив’язку справи після невдалих перевірок коду
desk-cmd-stats = Відкриті звернення й час до взяття сьогодні
desk-cmd-help = Команди операторів
